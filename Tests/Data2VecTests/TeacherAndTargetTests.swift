// The EMA teacher, the targets, the loss and the collapse monitor.
import Autograd
import Foundation
@testable import Data2Vec
import NN
import Testing

@Suite("EMA teacher")
struct EMATeacherTests {
    func encoder(_ seed: UInt64) -> TransformerEncoder {
        var rng = RandomGenerator(seed: seed)
        return TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .postLN, dropout: 0.1), using: &rng)
    }

    @Test func scheduleIsLinearThenConstant() {
        // tau0 0.999 -> tauEnd 0.9999 over 1000 updates: halfway = 0.99945; after the end: 0.9999.
        let s = EMASchedule(start: 0.999, end: 0.9999, annealSteps: 1000)
        #expect(s.tau(at: 0) == 0.999)
        #expect(abs(s.tau(at: 500) - 0.99945) < 1e-7)
        #expect(s.tau(at: 1000) == 0.9999 && s.tau(at: 10_000) == 0.9999)
        #expect(EMASchedule.constant(0.9998).tau(at: 0) == 0.9998)
    }

    @Test func teacherStartsAsACopyInEvalModeWithoutGradients() {
        let student = encoder(1)
        let teacher = EMATeacher(student: student, copy: encoder(2), schedule: .constant(0.9))
        for (s, t) in zip(student.parameters, teacher.model.parameters) {
            #expect(s.scalars == t.scalars)
            #expect(!t.requiresGradient)
        }
        #expect(!teacher.model.isTraining && !teacher.model.blocks[0].dropout.isTraining)
    }

    @Test func oneUpdateByHand() {
        // teacher = tau * teacher + (1 - tau) * student: with teacher 0, student 1, tau 0.9 -> 0.1 (then 0.19).
        let student = encoder(1), teacher = EMATeacher(student: student, copy: encoder(2), schedule: .constant(0.9))
        for p in teacher.model.parameters { p.storage.pointer.update(repeating: 0, count: p.count) }
        for p in student.parameters { p.storage.pointer.update(repeating: 1, count: p.count) }
        teacher.update(from: student)
        #expect(teacher.model.parameters.allSatisfy { $0.scalars.allSatisfy { abs($0 - 0.1) < 1e-7 } })
        teacher.update(from: student)
        #expect(teacher.model.parameters.allSatisfy { $0.scalars.allSatisfy { abs($0 - 0.19) < 1e-6 } })
        #expect(teacher.updateCount == 2)
    }

    @Test func tauOneFreezesAndCopiedParametersFollow() {
        let student = encoder(1)
        let teacher = EMATeacher(student: student, copy: encoder(2), schedule: .constant(1),
                                 copiedParameters: ["blocks.0.fc1.weight"])
        let before = teacher.model.parameters.map(\.scalars)
        for p in student.parameters { p.storage.pointer.update(repeating: 5, count: p.count) }
        teacher.update(from: student)
        for ((name, p), old) in zip(teacher.model.namedParameters, before) {
            if name == "blocks.0.fc1.weight" { #expect(p.scalars.allSatisfy { $0 == 5 }) } else { #expect(p.scalars == old, "\(name)") }
        }
    }
}

@Suite("Targets, loss and collapse monitor")
struct TargetTests {
    func fixture() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NNTests/Fixtures/fixtures.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        return root["cases"] as! [String: Any]
    }

    func tensor(_ object: Any) -> Tensor {
        let o = object as! [String: Any]
        return Tensor(shape: o["shape"] as! [Int], (o["values"] as! [Double]).map(Float.init))
    }

    func blocks(from layers: [Tensor]) -> [BlockOutputs] {
        layers.map { BlockOutputs(selfAttention: $0 * 0, feedForward: $0, output: $0 * 2, attentionWeights: nil) }
    }

    func maxError(_ a: Tensor, _ b: Tensor) -> Float { zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! }

    @Test func targetsMatchFairseqComputedInPyTorch() throws {
        let f = try fixture()["targets"] as! [String: Any]
        let layers = (f["layers"] as! [Any]).map(tensor)
        let records = blocks(from: layers)
        let speech = TargetBuilder(topK: 2, layerwise: .instance)(records)
        #expect(maxError(speech, tensor(f["instance_norm_average"]!)) < 1e-5)
        let text = TargetBuilder(topK: 2, layerwise: .layer)(records)
        #expect(maxError(text, tensor(f["layer_norm_average"]!)) < 1e-5)
        let vision = TargetBuilder(topK: 2, layerwise: .layer, final: .layer)(records)
        #expect(maxError(vision, tensor(f["layer_norm_average_layer_norm"]!)) < 1e-5)
    }

    @Test func targetsByHand() {
        // One sample, T = 2, D = 2, K = 2 of 3 blocks, no normalization: the plain average of blocks 1 and 2.
        let layers = [Tensor(shape: [1, 2, 2], [9, 9, 9, 9]), Tensor(shape: [1, 2, 2], [1, 2, 3, 4]), Tensor(shape: [1, 2, 2], [3, 4, 5, 6])]
        #expect(TargetBuilder(topK: 2, layerwise: .none)(blocks(from: layers)).scalars == [2, 3, 4, 5])
        // The end-of-block point reads `output` (here 2x the FFN output): [4, 6, 8, 10].
        #expect(TargetBuilder(topK: 2, point: .endOfBlock, layerwise: .none)(blocks(from: layers)).scalars == [4, 6, 8, 10])
        // Layer norm over channels of [1, 2] is [-1, 1] (up to eps), for every position and layer.
        let normalized = TargetBuilder(topK: 2, layerwise: .layer)(blocks(from: layers)).scalars
        #expect(zip(normalized, [-1, 1, -1, 1] as [Float]).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// The targets at the masked positions are the rows of the whole targets, bit for bit: built from the
    /// selected rows when every normalization stays within a position, from every position otherwise.
    @Test func targetsAtPositionsAreTheSelectedRows() {
        var rng = RandomGenerator(seed: 21)
        let layers = (0..<4).map { _ in Tensor.normal([3, 7, 24], std: 3, using: &rng) }
        let positions = [20, 0, 5, 6, 13, 9]  // flat indices b * 7 + t, in any order
        for layerwise in TargetNormalization.allCases {
            for final in TargetNormalization.allCases {
                for point in TargetPoint.allCases {
                    let builder = TargetBuilder(topK: 3, point: point, layerwise: layerwise, final: final)
                    let records = blocks(from: layers)
                    let selected = builder(records).reshaped([21, 24]).indexSelect(positions, along: 0)
                    let direct = builder(records, at: positions)
                    #expect(direct.shape == [6, 24])
                    #expect(direct.scalars.map(\.bitPattern) == selected.scalars.map(\.bitPattern),
                            "layerwise \(layerwise), final \(final), point \(point)")
                }
            }
        }
    }

    @Test func instanceNormUsesOnlyValidPositions() {
        // Sample of 4 steps with 2 valid: statistics from the first two ([1, 3]: mean 2, std 1) -> [-1, 1, 0, 0].
        let x = Tensor(shape: [1, 4, 1], [1, 3, 100, -100])
        let y = instanceNorm(x, validLengths: [2], epsilon: 0)
        #expect(y.scalars == [-1, 1, 0, 0])
        // Without padding it matches the whole-sequence statistics.
        #expect(abs(instanceNorm(Tensor(shape: [1, 2, 1], [1, 3]), epsilon: 0).scalars[1] - 1) < 1e-6)
    }

    @Test func lossMatchesFairseqFormula() throws {
        let f = try fixture()["data2vec_loss"] as! [String: Any]
        let prediction = tensor(f["prediction"]!), target = tensor(f["target"]!)
        #expect(abs(Data2VecLoss(beta: 0)(prediction, target).item - Float(f["l2_scaled"] as! Double)) < 1e-4)
        #expect(abs(Data2VecLoss(beta: 4, scale: 1)(prediction, target).item - Float(f["smooth_l1_beta4"] as! Double)) < 1e-4)
        // By hand: one position, D = 4, errors [1, 1, 1, 1], L2: sum 4, scale 1/sqrt(4) -> 2.
        #expect(Data2VecLoss(beta: 0)(Tensor(shape: [1, 4], [1, 1, 1, 1]), Tensor.zeros([1, 4])).item == 2)
    }

    @Test func collapseVarianceByHand() {
        // Rows [0, 0] and [2, 4]: unbiased variances 2 and 8, stds sqrt(2) and sqrt(8), mean (1.414 + 2.828) / 2.
        let v = collapseVariance(Tensor(shape: [2, 2], [0, 0, 2, 4]))
        #expect(abs(v - Float((2.0.squareRoot() + 8.0.squareRoot()) / 2)) < 1e-5)
        #expect(collapseVariance(Tensor.ones([10, 3])) < 0.002)  // a collapsed representation
    }

    /// Threads take columns, each still summed from row 0 down: the very Double sums of one column at a
    /// time, so the same number on any thread count (this runs on the default count, one per core).
    @Test func collapseVarianceIsTheColumnByColumnSum() {
        var rng = RandomGenerator(seed: 8)
        let y = Tensor.normal([300, 67], using: &rng)
        let (n, d, p) = (300, 67, y.scalars)
        var total: Double = 0
        for c in 0..<d {
            var mean: Double = 0
            for r in 0..<n { mean += Double(p[r * d + c]) }
            mean /= Double(n)
            var variance: Double = 0
            for r in 0..<n { let v = Double(p[r * d + c]) - mean; variance += v * v }
            total += (variance / Double(n - 1) + 1e-6).squareRoot()
        }
        #expect(collapseVariance(y) == Float(total / Double(d)))
    }
}
