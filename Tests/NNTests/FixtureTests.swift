// Layers against PyTorch: the same weights and inputs must give the same outputs and gradients.
import Autograd
import Foundation
@testable import NN
import Testing

@Suite("PyTorch fixtures")
struct FixtureTests {
    /// Copies fixture parameters into a module by name (and checks that every name exists).
    func load(_ parameters: [String: Tensor], into module: any Module) {
        let named = Dictionary(uniqueKeysWithValues: module.namedParameters.map { ($0.name, $0.tensor) })
        for (name, value) in parameters {
            guard let target = named[name], target.shape == value.shape else { Issue.record("no parameter \(name) \(value.shape)"); continue }
            target.storage.pointer.update(from: value.storage.pointer, count: value.count)
        }
    }

    @Test func linear() throws {
        let f = try Fixtures.load("linear")
        var rng = RandomGenerator(seed: 0)
        let layer = Linear(4, 5, using: &rng)
        load(["weight": f.tensor("weight"), "bias": f.tensor("bias")], into: layer)
        let x = f.leaf("x")
        let y = layer(x)
        #expect(maxError(y, f.tensor("y")) < Tolerance.forward)
        (y * f.tensor("r")).sum().backward()
        #expect(maxError(x.grad!, f.tensor("dx")) < Tolerance.gradient)
        #expect(maxError(layer.weight.grad!, f.tensor("dweight")) < Tolerance.gradient)
        #expect(maxError(layer.bias!.grad!, f.tensor("dbias")) < Tolerance.gradient)
    }

    @Test func layerNorm() throws {
        let f = try Fixtures.load("layer_norm")
        let norm = LayerNorm(6)
        load(["weight": f.tensor("weight"), "bias": f.tensor("bias")], into: norm)
        let x = f.leaf("x")
        let y = norm(x)
        #expect(maxError(y, f.tensor("y")) < Tolerance.forward)
        (y * f.tensor("r")).sum().backward()
        #expect(maxError(x.grad!, f.tensor("dx")) < Tolerance.gradient)
        #expect(maxError(norm.weight!.grad!, f.tensor("dweight")) < Tolerance.gradient)
        #expect(maxError(norm.bias!.grad!, f.tensor("dbias")) < Tolerance.gradient)
    }

    @Test func attentionWithPadding() throws {
        let f = try Fixtures.load("attention")
        var rng = RandomGenerator(seed: 0)
        let attention = MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng)
        load(f.group("params"), into: attention)
        let x = f.leaf("x")
        let (y, weights) = attention(x, keyPaddingMask: f.tensor("padding"), returnWeights: true)
        #expect(maxError(y, f.tensor("y")) < Tolerance.forward)
        #expect(maxError(weights!, f.tensor("weights")) < Tolerance.forward)
        (y * f.tensor("r")).sum().backward()
        #expect(maxError(x.grad!, f.tensor("dx")) < Tolerance.gradient)
        let grads = f.group("grads")
        for (name, p) in attention.namedParameters { #expect(maxError(p.grad!, grads[name]!) < Tolerance.gradient, "\(name)") }
    }

    @Test(arguments: [LayerNormPlacement.postLN, .preLN])
    func transformerBlock(_ placement: LayerNormPlacement) throws {
        let f = try Fixtures.load(placement == .postLN ? "block_postLN" : "block_preLN")
        var rng = RandomGenerator(seed: 0)
        let block = TransformerBlock(dimension: 8, headCount: 2, feedForwardDimension: 16, placement: placement, using: &rng)
        load(f.group("params"), into: block)
        let x = f.leaf("x")
        let out = block(x, keyPaddingMask: f.tensor("padding"))
        #expect(maxError(out.selfAttention, f.tensor("selfAttention")) < Tolerance.forward)
        #expect(maxError(out.feedForward, f.tensor("feedForward")) < Tolerance.forward)
        #expect(maxError(out.feedForwardAndResidual, f.tensor("feedForwardAndResidual")) < Tolerance.forward)
        #expect(maxError(out.output, f.tensor("output")) < Tolerance.forward)
        (out.output * f.tensor("r")).sum().backward()
        #expect(maxError(x.grad!, f.tensor("dx")) < Tolerance.gradient)
        let grads = f.group("grads")
        for (name, p) in block.namedParameters { #expect(maxError(p.grad!, grads[name]!) < Tolerance.gradient, "\(name)") }
    }

    /// Attention restricted to a band (|i - j| <= 1) as PyTorch's additive `attn_mask`, with a padded key: the
    /// fused op and the composed reference both match it, forward and backward.
    @Test(arguments: [false, true])
    func localAttention(composed: Bool) throws {
        let f = try Fixtures.load("local_attention")
        var rng = RandomGenerator(seed: 0)
        let attention = MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng)
        load(f.group("params"), into: attention)
        let x = f.leaf("x")
        let (y, weights) = composed
            ? attention.composed(x, keyPaddingMask: f.tensor("padding"), attentionBias: f.tensor("bias"), returnWeights: true)
            : attention(x, keyPaddingMask: f.tensor("padding"), attentionBias: f.tensor("bias"), returnWeights: true)
        #expect(maxError(y, f.tensor("y")) < Tolerance.forward)
        #expect(maxError(weights!, f.tensor("weights")) < Tolerance.forward)
        (y * f.tensor("r")).sum().backward()
        #expect(maxError(x.grad!, f.tensor("dx")) < Tolerance.gradient)
        let grads = f.group("grads")
        for (name, p) in attention.namedParameters { #expect(maxError(p.grad!, grads[name]!) < Tolerance.gradient, "\(name)") }
    }

    @Test func smoothL1() throws {
        let f = try Fixtures.load("smooth_l1")
        let prediction = f.leaf("prediction")
        let loss = Loss.smoothL1(prediction, f.tensor("target"), beta: f.number("beta"))
        #expect(abs(loss.item - f.number("loss")) < Tolerance.forward)
        loss.backward()
        #expect(maxError(prediction.grad!, f.tensor("dprediction")) < Tolerance.gradient)
    }

    @Test func conv1d() throws {
        let f = try Fixtures.load("conv1d")
        var rng = RandomGenerator(seed: 0)
        let conv = Conv1d(4, 6, kernelSize: 3, stride: 2, padding: 1, groups: 2, using: &rng)
        load(["weight": f.tensor("weight"), "bias": f.tensor("bias")], into: conv)
        let x = f.leaf("x")
        let y = conv(x)
        #expect(maxError(y, f.tensor("y")) < Tolerance.forward)
        (y * f.tensor("r")).sum().backward()
        #expect(maxError(x.grad!, f.tensor("dx")) < Tolerance.gradient)
        #expect(maxError(conv.weight.grad!, f.tensor("dweight")) < Tolerance.gradient)
        #expect(maxError(conv.bias!.grad!, f.tensor("dbias")) < Tolerance.gradient)
    }

    @Test func embedding() throws {
        let f = try Fixtures.load("embedding")
        var rng = RandomGenerator(seed: 0)
        let table = Embedding(count: 7, dimension: 5, using: &rng)
        load(["weight": f.tensor("weight")], into: table)
        let ids = f.fields["ids"] as! [Int]
        let y = table(ids, shape: [2, 3])
        #expect(maxError(y, f.tensor("y")) < Tolerance.forward)
        (y * f.tensor("r")).sum().backward()
        #expect(maxError(table.weight.grad!, f.tensor("dweight")) < Tolerance.gradient)  // id 3 three times: summed
    }

    /// Dropout's convention against PyTorch's: the elements PyTorch kept are scaled by 1 / (1 - p), the others
    /// are 0, and the gradient is the same mask. (The masks themselves come from different generators.)
    @Test func dropoutConvention() throws {
        let f = try Fixtures.load("dropout")
        let (x, y, p) = (f.tensor("x").scalars, f.tensor("y").scalars, f.number("p"))
        let kept = y.map { $0 != 0 }
        for i in x.indices where kept[i] { #expect(abs(y[i] - x[i] / (1 - p)) < 1e-5) }
        let mask = Tensor(shape: [4, 50], kept.map { $0 ? 1 / (1 - p) : 0 })
        let ours = f.leaf("x")
        let out = ours * mask  // what `Tensor.dropout` computes with this mask
        #expect(maxError(out, f.tensor("y")) < Tolerance.forward)
        (out * f.tensor("r")).sum().backward()
        #expect(maxError(ours.grad!, f.tensor("dx")) < Tolerance.gradient)
        // Our dropout draws its own mask with the same convention: about p of the elements zeroed.
        var rng = RandomGenerator(seed: 3)
        let dropped = Tensor.ones([100_000]).dropout(p, using: &rng).scalars
        #expect(abs(Float(dropped.filter { $0 == 0 }.count) / 100_000 - p) < 0.01)
        #expect(dropped.allSatisfy { $0 == 0 || abs($0 - 1 / (1 - p)) < 1e-6 })
    }
}
