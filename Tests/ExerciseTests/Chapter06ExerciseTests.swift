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
    @Test func exercise1_shorterSpansSameFractionMoreHoles() throws {
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

        // On the chapter's clips (about 40 frames) the batch-trimmed fraction is another matter: one or two spans
        // of 20 cover half a clip or more, and the chapter's run with spans of 10 masks less (the README's outcome).
        func masked(_ name: String) throws -> Double { try #require(ExerciseLog(name).number(after: "masked frames:")) }
        let (shortSpans, default20) = (try masked("exercises/ch06-span-length-10"), try masked("exercises/ch06-short-positions-default"))
        #expect(shortSpans < default20 - 10)
    }

    /// Exercise 2 (--test-speakers theo): the held-out speaker's clips never appear in training.
    @Test func exercise2_aHeldOutSpeakerIsNeverHeardInTraining() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data")
        let digits = try SpokenDigits(directory: folder)
        let (train, test) = try digits.split(testSpeakers: ["theo"])
        #expect(Set(train.map { digits.speakers[$0] }).isDisjoint(with: Set(test.map { digits.speakers[$0] })))
        #expect(test.count == 500 && train.count == 2000)

        // The committed runs heard theo's takes 5-49, so the chapter must leave them out of his test clips.
        let root = folder.deletingLastPathComponent()
        let committed = try Checkpoint.load(root.appendingPathComponent("pretrained/ch06-speech-logmel/steps1200-seed0.safetensors")).metadata
        #expect(digits.heardClips(record: try #require(committed["heard"]), among: test)?.count == 450)

        // The outcome chapters/06-speech/README.md states, with 10 labelled clips per digit (logistic regression):
        // every feature reads theo worse than the speakers it heard, and this run's data2vec features fall the
        // most; with one labelled clip per digit they still read theo at least 5 points better than log-mel statistics.
        func row(_ name: String, _ method: String) throws -> [Double] {   // accuracy at 1, 5, 10 and 50 clips per digit
            let line = try #require(ExerciseLog(name).lines(containing: method + "  ").first)
            return line.split(separator: " ").filter { $0.hasSuffix("%") }.compactMap { Double($0.dropLast()) }
        }
        let methods = ["log-mel statistics, logistic", "random encoder (logmel), logistic", "data2vec, this run (logmel), logistic"]
        let heard = try methods.map { try row("exercises/ch06-short-positions-default", $0) }, theo = try methods.map { try row("exercises/ch06-short-positions-theo", $0) }
        #expect(heard.allSatisfy { $0.count == 4 } && theo.allSatisfy { $0.count == 4 })
        let falls = zip(heard, theo).map { $0[2] - $1[2] }
        #expect(falls.allSatisfy { $0 > 0 } && falls[2] == falls.max())
        #expect(theo[2][0] >= theo[0][0] + 5)
    }

    /// Exercise 3 (--top-k 1): the speech target with K = 1 is the last block's FFN output, instance-normalized.
    @Test func exercise3_topOneIsTheLastFeedForwardOutputNormalizedOverTime() throws {
        var rng = RandomGenerator(seed: 63)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 4, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .postLN, inputLayerNorm: true), using: &rng)
        encoder.eval()
        let blocks = Tensor.withoutGradients { encoder(Tensor.normal([2, 7, 8], using: &rng), recordBlocks: true).blocks }
        #expect(TargetBuilder(topK: 1, layerwise: .instance)(blocks).scalars == instanceNorm(blocks[3].feedForward).scalars)

        // The chapter's run: one normalized block keeps more variance than the average of three (the README's outcome).
        func lowestTargetVariance(_ name: String) throws -> Double { try #require(ExerciseLog(name).number(after: "lowest target variance")) }
        let (one, three) = (try lowestTargetVariance("exercises/ch06-top-k-1"), try lowestTargetVariance("exercises/ch06-short-positions-default"))
        #expect(one > three)
    }

    /// Exercise 4: the CTC loss by hand on two frames is worked in Tests/AutogradTests/CTCTests.swift
    /// (`twoFramesByHand`). Here the same reasoning over more frames, checked against the project's CTC: with
    /// two symbols (blank, "1") equally likely at every frame, every T-frame path has probability 2^-T, and the
    /// paths that read "1" are those whose 1s form one run: T (T + 1) / 2 of them (choose the run's first and
    /// last frame). So the loss of the label "1" is -log(T (T + 1) / 2 / 2^T).
    @Test func exercise4_theLossCountsThePathsThatReadTheLabel() {
        for frames in 1...6 {
            let uniform = Tensor.zeros([1, frames, 2])  // equal logits: each symbol 1/2 at every frame
            let loss = Tensor.ctcLoss(logits: uniform, inputLengths: [frames], targets: [[1]]).item
            let paths = Double(frames * (frames + 1) / 2)
            #expect(abs(Double(loss) - (-log(paths / pow(2, Double(frames))))) < 1e-5, "T = \(frames)")
        }
    }

    /// Exercise 5 (--ctc-frames-per-step 2): a clip of 1.5 s is about 150 frames of 10 ms. With one CTC output per
    /// frame (the chapter's default), a string of 3 digits leaves at least 150 - 3 outputs to blanks (or repeats);
    /// with one output per two frames, about half as many: fewer blanks to learn before the first digit appears.
    @Test func exercise5_twoFramesPerOutputHalveTheStepsToFillWithBlanks() throws {
        var rng = RandomGenerator(seed: 65)
        let frontEnd = SpeechFrontEndConfiguration(dimension: 16)
        let encoder = TransformerConfiguration(blockCount: 1, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .postLN)
        let clip = AudioBatch([(0..<12_000).map { _ in Float(rng.normal()) }])  // 1.5 s at 8 kHz
        let steps = [1, 2].map { k -> Int in
            let recognizer = SpeechRecognizer(backbone: SpeechBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng), symbols: 11,
                                              framesPerStep: k, using: &rng)
            let (logits, lengths) = Tensor.withoutGradients { recognizer(clip, frozenCNN: false) }
            #expect(logits.shape[1] == lengths[0])
            return lengths[0]
        }
        #expect(steps[0] == 149 && steps[1] == 75)
        #expect(steps.map { $0 - 3 } == [146, 72])

        // The chapter's run and the exercise's (the README's outcome): with 10% of the strings both recognizers are
        // worse with two frames per output; with all of them training from scratch is better.
        func errorRates(_ name: String, _ row: String) throws -> [Double] {   // fine-tuned DER, scratch DER
            let line = try #require(ExerciseLog(name).lines(containing: row).first)
            return line.split(separator: " ").filter { $0.hasSuffix("%") }.compactMap { Double($0.dropLast()) }.suffix(2).map { $0 }
        }
        let (perTwo, perOne) = ("exercises/ch06-ctc-frames-per-step-2", "exercises/ch06-short-positions-default")
        let (tenthTwo, tenthOne) = (try errorRates(perTwo, "10% (  64)"), try errorRates(perOne, "10% (  64)"))
        #expect(tenthTwo[0] > tenthOne[0] && tenthTwo[1] > tenthOne[1])
        #expect(try errorRates(perTwo, "100% ( 644)")[1] < errorRates(perOne, "100% ( 644)")[1])
    }
}
