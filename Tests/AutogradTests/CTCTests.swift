// The CTC loss (Autograd/Ops+CTC.swift): cases worked by hand, finite differences, and PyTorch's
// `ctc_loss` with reductions "mean" and "sum" / B, fairseq's (Fixtures/make_ctc_fixtures.py wrote
// Fixtures/ctc_fixtures.json).
import Foundation
import Testing
@testable import Autograd

@Suite("CTC loss")
struct CTCTests {
    /// Two frames, two symbols (blank 0 and the label 1), target "1", all logits 0 so every frame is 50/50.
    /// The frame paths that read "1" once repeats merge and blanks drop: (1, 1), (0, 1), (1, 0), each of
    /// probability 1/4, so p = 3/4 and the loss is -ln(3/4) = 0.28768. At frame 0 the paths emitting the
    /// label carry 2 of the 3 quarters: posterior 2/3 for the label, 1/3 for the blank; the gradient with
    /// respect to the logits is softmax - posterior = (1/2 - 1/3, 1/2 - 2/3) = (1/6, -1/6), the same at frame 1.
    @Test func twoFramesByHand() {
        let logits = Tensor.zeros([1, 2, 2], requiresGradient: true)
        let loss = Tensor.ctcLoss(logits: logits, inputLengths: [2], targets: [[1]])
        #expect(abs(loss.item - 0.287682) < 1e-5)  // one sequence of one label: both reductions agree
        loss.backward()
        let expected: [Float] = [1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6]
        #expect(zip(logits.grad!.scalars, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// Two sequences of different target lengths, uniform logits. Sequence A: 2 frames of {blank, 1, 2}, target
    /// "1": the paths 11, 01, 10 of 9, loss -ln(3/9) = 1.098612. Sequence B: 3 frames, target "12": the paths
    /// 122, 112, 012, 102, 120 of 27, loss -ln(5/27) = 1.686399. fairseq averages the sums over sequences:
    /// (1.098612 + 1.686399) / 2 = 1.392506; PyTorch's mean first divides by the target lengths 1 and 2:
    /// (1.098612 + 0.843200) / 2 = 0.970906.
    @Test func reductionsByHand() {
        let logits = Tensor.zeros([2, 3, 3])
        let fairseq = Tensor.ctcLoss(logits: logits, inputLengths: [2, 3], targets: [[1], [1, 2]]).item
        let pytorch = Tensor.ctcLoss(logits: logits, inputLengths: [2, 3], targets: [[1], [1, 2]], reduction: .meanPerTargetLabel).item
        #expect(abs(fairseq - 1.392506) < 1e-5)
        #expect(abs(pytorch - 0.970906) < 1e-5)
    }

    @Test func gradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 3)
        let logits = Tensor.normal([2, 7, 5], using: &rng, requiresGradient: true)
        for reduction in [CTCReduction.meanOverSequences, .meanPerTargetLabel] {
            let report = GradientCheck.check([logits]) { inputs in
                Tensor.ctcLoss(logits: inputs[0], inputLengths: [7, 5], targets: [[1, 2, 2], [4, 3]], reduction: reduction)
            }
            #expect(report.passed, "\(reduction): \(report)")
        }
    }

    struct Case: Decodable {
        struct Stored: Decodable { let shape: [Int]; let values: [Float] }
        let logits: Stored
        let input_lengths: [Int]
        let targets: [[Int]]
        let per_sequence: [Float]
        let mean: Float
        let gradient: [Float]
        let sentence_avg: Float
        let sentence_avg_gradient: [Float]
    }

    static let cases: [String: Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ctc_fixtures.json")
        struct File: Decodable { let cases: [String: Case] }
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases) ?? [:]
    }()

    @Test(arguments: ["two labels", "repeated label needs a blank", "barely long enough", "batch with padding", "too short: zero infinity"])
    func matchesPyTorch(_ name: String) throws {
        let c = try #require(CTCTests.cases[name], "fixture \(name) missing")
        let logits = Tensor(shape: c.logits.shape, c.logits.values, requiresGradient: true)
        let loss = Tensor.ctcLoss(logits: logits, inputLengths: c.input_lengths, targets: c.targets, reduction: .meanPerTargetLabel)
        #expect(abs(loss.item - c.mean) < 1e-5 * max(1, abs(c.mean)), "\(loss.item) vs \(c.mean)")
        loss.backward()
        let worst = zip(logits.grad!.scalars, c.gradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "gradient differs by \(worst)")
        // fairseq's reduction: PyTorch's "sum" divided by the batch size.
        let summed = Tensor(shape: c.logits.shape, c.logits.values, requiresGradient: true)
        let fairseq = Tensor.ctcLoss(logits: summed, inputLengths: c.input_lengths, targets: c.targets)
        #expect(abs(fairseq.item - c.sentence_avg) < 1e-5 * max(1, abs(c.sentence_avg)), "\(fairseq.item) vs \(c.sentence_avg)")
        fairseq.backward()
        let worstSum = zip(summed.grad!.scalars, c.sentence_avg_gradient).map { abs($0 - $1) }.max() ?? 0
        #expect(worstSum < 1e-5, "gradient (sentence average) differs by \(worstSum)")
        // Each sequence alone: PyTorch's per-sequence (unnormalized) loss is fairseq's reduction of a batch of one.
        for (b, target) in c.targets.enumerated() {
            let t = c.logits.shape[1], classes = c.logits.shape[2]
            let one = Tensor(shape: [1, t, classes], Array(c.logits.values[(b * t * classes)..<((b + 1) * t * classes)]))
            let single = Tensor.ctcLoss(logits: one, inputLengths: [c.input_lengths[b]], targets: [target]).item
            #expect(abs(single - c.per_sequence[b]) < 1e-4 * max(1, c.per_sequence[b]))
        }
    }
}
