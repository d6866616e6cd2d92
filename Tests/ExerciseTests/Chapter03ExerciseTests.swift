// The answer key of chapter 03's exercises: the part of each answer that can be checked in seconds.
import Autograd
import Foundation
@testable import NN
import Testing

@Suite("Chapter 03 exercises")
struct Chapter03ExerciseTests {
    /// Exercise 1 (--no-positions): without position embeddings an encoder is permutation-equivariant:
    /// permuting the input tokens permutes the outputs the same way. Every position then sees the same
    /// multiset of tokens, so position t cannot know which digit is at T-1-t: accuracy falls to about chance
    /// for all but the digits that happen to repeat.
    @Test func exercise1_withoutPositionsTheEncoderIsPermutationEquivariant() {
        var rng = RandomGenerator(seed: 31)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .preLN), using: &rng)
        encoder.eval()
        let x = Tensor.normal([1, 5, 8], using: &rng)
        let permutation = [3, 0, 4, 1, 2]
        let permuted = x.indexSelect(permutation, along: 1)
        let (y, z) = Tensor.withoutGradients { (encoder(x).output, encoder(permuted).output) }
        let yPermuted = y.indexSelect(permutation, along: 1)
        #expect(zip(yPermuted.scalars, z.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// Exercise 2 (--heads 1): one head of size 64 instead of four of 16; the attention weights are then one
    /// [T, T] map per block, each row still a probability distribution.
    @Test func exercise2_oneHeadGivesOneMapPerBlock() {
        var rng = RandomGenerator(seed: 32)
        let attention = MultiHeadSelfAttention(dimension: 64, headCount: 1, using: &rng)
        let (_, weights) = Tensor.withoutGradients { attention(Tensor.normal([2, 10, 64], using: &rng), returnWeights: true) }
        #expect(weights!.shape == [2, 1, 10, 10])
        let rows = weights!.sum(alongAxes: [3]).scalars
        #expect(rows.allSatisfy { abs($0 - 1) < 1e-5 })
    }

    /// Exercise 3 (--learning-rate 0.01): a post-LN block hands on a LayerNorm's output whatever its weights
    /// do, so its output keeps unit scale; a pre-LN stream adds every branch's output, so large weights
    /// (what a too-large step produces) blow it up.
    @Test func exercise3_postLNOutputKeepsItsScaleWhenWeightsGrow() {
        var rng = RandomGenerator(seed: 33)
        for placement in [LayerNormPlacement.postLN, .preLN] {
            let block = TransformerBlock(dimension: 16, headCount: 2, feedForwardDimension: 32, placement: placement, using: &rng)
            for w in [block.fc2.weight, block.attention.output.weight] { for i in 0..<w.count { w.storage.pointer[i] *= 50 } }
            let out = Tensor.withoutGradients { block(Tensor.normal([2, 6, 16], using: &rng)).output }
            let std = out.variance().item.squareRoot()
            if placement == .postLN { #expect(abs(std - 1) < 0.05) } else { #expect(std > 10) }
        }
    }

    /// The reversal run of one log: each placement's test accuracy (%) and the best head's share on the mirrored key (%).
    static func reversal(_ name: String) throws -> (preLN: Double, postLN: Double, mirror: Double) {
        let log = try ExerciseLog(name)
        func after(_ word: String, on line: String) -> Double? { line.range(of: word).flatMap { log.numbers(in: String(line[$0.upperBound...])).first } }
        func accuracy(_ placement: String) -> Double? {
            log.lines(containing: "test token accuracy").first { $0.contains("\(placement): ") }.flatMap { after("accuracy", on: $0) }
        }
        let mirror = try #require(log.lines(containing: "the most mirror-focused head").first)
        return (try #require(accuracy("pre-LN")), try #require(accuracy("post-LN")), try #require(after("puts", on: mirror)))
    }

    /// The outcomes chapters/03-transformer/README.md states, on the exercise runs' logs.
    @Test func theExerciseRunsShowWhatTheREADMESays() throws {
        let plain = try Self.reversal("ch03-transformer"), noPositions = try Self.reversal("exercises/ch03-no-positions")
        let oneHead = try Self.reversal("exercises/ch03-heads-1"), fast = try Self.reversal("exercises/ch03-learning-rate-0.01")
        #expect(plain.preLN > 95 && plain.postLN > 95)
        // 1: without positions, well above chance (10%) and far from solved; no head finds the mirror.
        #expect([noPositions.preLN, noPositions.postLN].allSatisfy { $0 > 15 && $0 < 50 } && noPositions.mirror < 20)
        // 2: one head per block still solves it, by looking at the mirrored key.
        #expect(oneHead.preLN > 95 && oneHead.postLN > 95 && oneHead.mirror > 80)
        // 3: five times the learning rate breaks neither placement.
        #expect(fast.preLN > 95 && fast.postLN > 95)
    }
}
