// Finite-difference gradient checks through every module and loss (inputs and parameters together).
import Autograd
import Foundation
@testable import NN
import Testing

@Suite("Module and loss gradient checks")
struct ModuleGradientTests {
    func check(_ module: any Module, input: Tensor, tolerance: Float = 1e-2, _ f: (Tensor) -> Tensor) {
        let inputs = [input] + module.parameters
        let report = GradientCheck.check(inputs, tolerance: tolerance) { _ in f(input) }
        #expect(report.passed, "\(type(of: module)): \(report)")
    }

    @Test func layers() {
        var rng = RandomGenerator(seed: 11)
        let linear = Linear(3, 4, using: &rng)
        check(linear, input: Tensor.normal([2, 3], using: &rng, requiresGradient: true)) { linear($0) }
        let norm = LayerNorm(5)
        let scale = Tensor.normal([5], using: &rng)  // held in a variable: its storage must outlive the copy
        norm.weight!.storage.pointer.update(from: scale.storage.pointer, count: 5)
        check(norm, input: Tensor.normal([3, 5], using: &rng, requiresGradient: true)) { norm($0) }
        let conv = Conv1d(4, 6, kernelSize: 3, stride: 2, padding: 1, groups: 2, using: &rng)
        check(conv, input: Tensor.normal([2, 4, 7], using: &rng, requiresGradient: true)) { conv($0) }
        let embedding = Embedding(count: 6, dimension: 3, using: &rng)
        check(embedding, input: Tensor.zeros([1])) { _ in embedding([5, 0, 5, 2], shape: [2, 2]) }
        let gelu = GELU()
        check(gelu, input: Tensor.normal([6], using: &rng, requiresGradient: true)) { gelu($0) }
    }

    @Test func attentionWithPadding() {
        var rng = RandomGenerator(seed: 15)
        let attention = MultiHeadSelfAttention(dimension: 8, headCount: 4, using: &rng)
        let x = Tensor.normal([2, 4, 8], using: &rng, requiresGradient: true)
        let padding = Tensor(shape: [2, 4], [0, 0, 0, 0, 0, 0, 1, 1])
        check(attention, input: x) { attention($0, keyPaddingMask: padding).output }
        check(attention, input: x) { attention.composed($0, keyPaddingMask: padding).output }
    }

    /// The fused attention op (Autograd/Ops+Attention.swift) must equal the composed ops, values and
    /// gradients, here with 3 samples x 4 heads split across threads and a padded sample.
    @Test func fusedAttentionEqualsComposed() {
        var rng = RandomGenerator(seed: 17)
        let attention = MultiHeadSelfAttention(dimension: 16, headCount: 4, using: &rng)
        let x = Tensor.normal([3, 7, 16], using: &rng, requiresGradient: true)
        let padding = Tensor(shape: [3, 7], (0..<21).map { $0 >= 18 ? 1 : 0 })
        let upstream = Tensor.normal([3, 7, 16], using: &rng)
        func run(_ f: () -> (output: Tensor, weights: Tensor?)) -> (output: Tensor, weights: Tensor, grads: [Tensor]) {
            for p in [x] + attention.parameters { p.zeroGradient() }
            let (y, w) = f()
            y.backward(seed: upstream)
            return (y, w!, ([x] + attention.parameters).map { $0.grad! })
        }
        let fused = run { attention(x, keyPaddingMask: padding, returnWeights: true) }
        let composed = run { attention.composed(x, keyPaddingMask: padding, returnWeights: true) }
        #expect(maxDifference(fused.output, composed.output) < 1e-5)
        #expect(maxDifference(fused.weights, composed.weights) < 1e-6)
        for (a, b) in zip(fused.grads, composed.grads) { #expect(maxDifference(a, b) < 1e-4) }
    }

    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test func dropoutGradientIsItsMask() {
        // Dropout draws a new mask per call, so finite differences do not apply. Instead: y = x * m / (1 - p),
        // hence dy/dx = m / (1 - p), which for x = 1 is y itself.
        var rng = RandomGenerator(seed: 16)
        let dropout = Dropout(0.3, using: &rng)
        let x = Tensor.ones([1000], requiresGradient: true)
        let y = dropout(x)
        y.sum().backward()
        #expect(x.grad!.scalars == y.scalars)
        #expect(Set(y.scalars) == [0, 1 / 0.7])
    }

    @Test(arguments: LayerNormPlacement.allCases)
    func attentionAndBlocks(_ placement: LayerNormPlacement) {
        var rng = RandomGenerator(seed: 12)
        let block = TransformerBlock(dimension: 8, headCount: 2, feedForwardDimension: 12, placement: placement, using: &rng)
        let x = Tensor.normal([2, 3, 8], using: &rng, requiresGradient: true)
        let padding = Tensor(shape: [2, 3], [0, 0, 0, 0, 0, 1])
        check(block, input: x) { block($0, keyPaddingMask: padding).output }
        check(block, input: x) { block($0, keyPaddingMask: padding).feedForward }
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 12, placement: placement), using: &rng)
        check(encoder, input: x) { encoder($0, keyPaddingMask: padding).output }
    }

    @Test func losses() {
        var rng = RandomGenerator(seed: 13)
        let target = Tensor.normal([3, 4], std: 2, using: &rng)
        func checkLoss(_ name: String, _ loss: @escaping (Tensor) -> Tensor) {
            var local = RandomGenerator(seed: 14)
            let prediction = Tensor.normal([3, 4], std: 2, using: &local, requiresGradient: true)
            let report = GradientCheck.check([prediction]) { loss($0[0]) }
            #expect(report.passed, "\(name): \(report)")
        }
        checkLoss("mse mean") { Loss.meanSquaredError($0, target) }
        checkLoss("mse none") { Loss.meanSquaredError($0, target, reduction: .none) }
        checkLoss("smooth L1 beta 1 sum") { Loss.smoothL1($0, target, beta: 1, reduction: .sum) }
        checkLoss("smooth L1 beta 0 (L2)") { Loss.smoothL1($0, target, beta: 0) }
        checkLoss("cross-entropy with ignored rows") { Loss.crossEntropy(logits: $0, labels: [3, -100, 0]) }
    }

    @Test func smoothL1ByHand() {
        // beta 2: d = 1 (quadratic: 0.5 * 1 / 2 = 0.25), d = -3 (linear: 3 - 1 = 2); mean = 1.125.
        let loss = Loss.smoothL1(Tensor([1, -3]), Tensor([0, 0]), beta: 2)
        #expect(loss.item == 1.125)
        // beta 0 is the squared error (fairseq): (1 + 9) / 2 = 5.
        #expect(Loss.smoothL1(Tensor([1, -3]), Tensor([0, 0]), beta: 0).item == 5)
    }

    @Test func crossEntropyIgnoresRows() {
        // Only row 0 counts: logits [0, ln 3] -> p(label 1) = 3/4, loss = -ln(3/4).
        let logits = Tensor(shape: [2, 2], [0, Float(log(3.0)), 5, -5])
        #expect(abs(Loss.crossEntropy(logits: logits, labels: [1, -100]).item - Float(-log(0.75))) < 1e-6)
    }
}
