// The answer key of chapter 08's exercises: the part of each answer that can be checked in seconds.
import Autograd
import Foundation
@testable import Data2Vec
import NN
import Optim
import Testing

@Suite("Chapter 08 exercises")
struct Chapter08ExerciseTests {
    var base: VisionRecipe {
        var data2vec = Data2VecConfig(averageTopKLayers: 4, layerwiseTargetNorm: .layer, emaAnnealEndStep: 100)
        data2vec.targetPoint = .endOfBlock
        return VisionRecipe(frontEnd: ImagePatchConfiguration(dimension: 16),
                            encoder: TransformerConfiguration(blockCount: 4, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .preLN),
                            data2vec: data2vec, optimization: AdamWConfiguration(peakLearningRate: 1e-3), steps: 100, batchSize: 8)
    }

    /// Exercise 1: "K = 2" changes `data2vec.averageTopKLayers` from 4 to 2, and nothing else.
    @Test func exercise1_kTwoChangesTheAveragedBlocksOnly() {
        let arm = Ablation.visionGrid(base)[0].arms.first { $0.label == "K = 2" }!
        var expected = base
        expected.data2vec.averageTopKLayers = 2
        #expect(arm.recipe(from: base) == expected)
    }

    /// Exercise 2: with radius 0 each teacher position attends only to itself in every block, so nothing of the
    /// other patches reaches its targets: changing one patch changes no other position's target.
    @Test func exercise2_radiusZeroTargetsCarryNoContext() {
        var rng = RandomGenerator(seed: 82)
        let frontEnd = ImagePatchFrontEnd(base.frontEnd, using: &rng)
        let encoder = TransformerEncoder(base.encoder, using: &rng)
        encoder.eval()
        let bias = localAttentionBias(coordinates: frontEnd.positionCoordinates(count: 49), radius: 0)
        func targets(_ images: Tensor) -> [Float] {
            Tensor.withoutGradients {
                let blocks = encoder(frontEnd.unmaskedInput(images).input, attentionBias: bias, recordBlocks: true).blocks
                return TargetBuilder(topK: 4, point: .endOfBlock, layerwise: .layer, final: .layer)(blocks).scalars
            }
        }
        let image = Tensor.normal([1, 28, 28], using: &rng)
        var changed = image.scalars
        for row in 0..<4 { for column in 0..<4 { changed[row * 28 + column] += 1 } }  // patch 0 only
        let (before, after) = (targets(image), targets(Tensor(shape: [1, 28, 28], changed)))
        let d = base.frontEnd.dimension
        #expect(before[0..<d] != after[0..<d])                 // patch 0's own target moves
        #expect(Array(before[d...]) == Array(after[d...]))      // every other patch's is bit for bit the same
    }

    /// Exercise 3, on results/ch08-ablations-full.txt: on images too the self-attention targets collapse. Their lowest
    /// variance after warm-up is far under fairseq's 0.1 floor while the end-of-block targets' stays above it, and
    /// the arm reads the worst of all (its linear probe the lowest of section 4's table).
    @Test func exercise3_selfAttentionTargetsCollapseOnImagesToo() throws {
        let log = try ExerciseLog("ch08-ablations-full")
        let section = log.text.components(separatedBy: "## 4. Target type")[1].components(separatedBy: "## 5.")[0]
        func row(_ arm: String) -> [Double] {
            let line = section.split(separator: "\n").map(String.init).first { $0.hasPrefix("  " + arm + " ") }!
            return log.numbers(in: line)
        }
        let (attention, end, ffn) = (row("self-attention"), row("end of block"), row("FFN *"))
        #expect(attention.last! < 0.01 && end.last! > 0.1)          // lowest target variance
        #expect(attention[0] < ffn[0] && attention[0] < end[0])     // linear probe, validation images
    }

    /// Exercise 4, on results/exercises/ch08-pretrain-steps-3000.txt against results/ch08-ablations.txt: with 3,000
    /// steps every headline arm reads higher, the top-K gap widens, and a local teacher still beats the whole image.
    @Test func exercise4_longerPretrainingWidensTopKButNotContext() throws {
        let (short, long) = (try ExerciseLog("ch08-ablations"), try ExerciseLog("exercises/ch08-pretrain-steps-3000"))
        // The arm's row in the last section's table (the last line that names it): its linear probe on the test images.
        func probe(_ log: ExerciseLog, _ arm: String) -> Double {
            let line = log.lines(containing: "  " + arm + "  ").last!
            return log.numbers(in: String(line.dropFirst(2 + arm.count)))[0]  // after the label, whose own numbers (K = 1) come first
        }
        let arms = ["top-K averaging: K = 1", "top-K averaging: K = 4 *", "target context: radius 0", "target context: radius 1",
                    "target context: whole image *"]
        for arm in arms { #expect(probe(long, arm) > probe(short, arm), "\(arm)") }
        let gap = { (log: ExerciseLog) in probe(log, arms[1]) - probe(log, arms[0]) }
        #expect(gap(long) > gap(short) && gap(short) > 0)
        #expect(probe(long, arms[2]) > probe(long, arms[4]) && probe(long, arms[3]) > probe(long, arms[4]))
    }
}
