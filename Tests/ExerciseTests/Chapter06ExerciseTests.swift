// The answer key of chapter 06's exercises: the part of each answer that can be checked in seconds.
import Autograd
@testable import Data2Vec
import Datasets
import Foundation
import NN
import Testing

@Suite("Chapter 06 exercises")
struct Chapter06ExerciseTests {
    /// Exercise 1 (--span-length 10): with shorter spans the same p masks about the same fraction of a clip
    /// (p / l starts of l frames each), but in twice as many, shorter holes.
    @Test func exercise1_shorterSpansSameFractionMoreHoles() {
        var rng = RandomGenerator(seed: 61)
        func stats(_ length: Int) -> (fraction: Double, holes: Double) {
            let masking = SpanMasking(probability: 0.65, spanLength: length, sameCountPerRow: false)
            var (fraction, holes) = (0.0, 0.0)
            for _ in 0..<200 {
                let row = masking(batchSize: 1, length: 400, using: &rng).isMasked[0]
                fraction += Double(row.filter { $0 }.count) / 400
                holes += Double(zip([false] + row, row).filter { !$0 && $1 }.count)
            }
            return (fraction / 200, holes / 200)
        }
        let (long, short) = (stats(20), stats(10))
        #expect(abs(long.fraction - short.fraction) < 0.06)
        #expect(short.holes > 1.5 * long.holes)
    }

    /// Exercise 2 (--test-speakers theo): the held-out speaker's clips never appear in training.
    @Test func exercise2_aHeldOutSpeakerIsNeverHeardInTraining() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data")
        let digits = try SpokenDigits(directory: folder)
        let (train, test) = try digits.split(testSpeakers: ["theo"])
        #expect(Set(train.map { digits.speakers[$0] }).isDisjoint(with: Set(test.map { digits.speakers[$0] })))
        #expect(test.count == 500 && train.count == 2000)
    }

    /// Exercise 3 (--top-k 1): the speech target with K = 1 is the last block's FFN output, instance-normalized.
    @Test func exercise3_topOneIsTheLastFeedForwardOutputNormalizedOverTime() {
        var rng = RandomGenerator(seed: 63)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 4, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .postLN, inputLayerNorm: true), using: &rng)
        encoder.eval()
        let blocks = Tensor.withoutGradients { encoder(Tensor.normal([2, 7, 8], using: &rng), recordBlocks: true).blocks }
        #expect(TargetBuilder(topK: 1, layerwise: .instance)(blocks).scalars == instanceNorm(blocks[3].feedForward).scalars)
    }

    /// Exercise 4: the CTC loss by hand on two frames is worked in Tests/AutogradTests/CTCTests.swift
    /// (`twoFramesByHand`); here, the count of frame paths that read a label sequence. For T frames and the
    /// single label "1" with a blank, the paths are the T-frame strings over {blank, 1} whose 1s form one run:
    /// T (T + 1) / 2 of them (choose the run's start and end).
    @Test func exercise4_pathsThatReadOneLabel() {
        for frames in 1...6 {
            var count = 0
            for code in 0..<(1 << frames) {
                let path = (0..<frames).map { (code >> $0) & 1 }
                let runs = zip([0] + path, path).filter { $0 == 0 && $1 == 1 }.count
                if runs == 1 { count += 1 }
            }
            #expect(count == frames * (frames + 1) / 2)
        }
    }

    /// Exercise 5 (--ctc-frames-per-step 1): a string of 3 digits over 1.5 s is 150 frames of 10 ms. With one output
    /// per frame, at least 150 - 3 = 147 outputs must be blanks (or repeats); with one per 20 ms, 75 - 3 = 72. The
    /// recognizer's steps: ceil(frames / k).
    @Test func exercise5_fewerStepsFewerBlanks() {
        let (frames, digits) = (150, 3)
        let steps = [1, 2].map { k in (frames + k - 1) / k }
        #expect(steps == [150, 75])
        #expect(steps.map { $0 - digits } == [147, 72])
    }
}
