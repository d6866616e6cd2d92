// Module invariants: every stored tensor is listed as a parameter, names are stable, modes propagate.
import Autograd
@testable import NN
import Testing

/// Every Tensor (or module) a module stores must be in its parameter (or submodule) list:
/// a forgotten tensor would silently never be trained, saved or averaged into the EMA teacher.
func unlistedStorage(of module: any Module) -> [String] {
    var missing: [String] = []
    let listed = Set(module.ownParameters.map { ObjectIdentifier($0.tensor) })
    let children = Set(module.submodules.map { ObjectIdentifier($0.module) })
    for child in Mirror(reflecting: module).children {
        let values: [Any] = (child.value as? [Any]) ?? [child.value]
        for value in values {
            if let optional = value as? Tensor? , let tensor = optional, !listed.contains(ObjectIdentifier(tensor)) {
                missing.append("\(type(of: module)).\(child.label ?? "?")")
            }
            if let submodule = value as? any Module {
                if !children.contains(ObjectIdentifier(submodule)) { missing.append("\(type(of: module)).\(child.label ?? "?") (module)") }
                missing += unlistedStorage(of: submodule)
            }
        }
    }
    return missing
}

@Suite("Modules")
struct ModuleTests {
    @Test func everyStoredTensorIsListed() {
        var rng = RandomGenerator(seed: 0)
        let modules: [any Module] = [
            Linear(3, 4, using: &rng), Linear(3, 4, bias: false, using: &rng), Embedding(count: 5, dimension: 3, using: &rng),
            LayerNorm(4), LayerNorm(4, affine: false), Dropout(0.1, using: &rng), GELU(),
            Conv1d(2, 4, kernelSize: 3, groups: 2, using: &rng),
            MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng),
            TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .preLN), using: &rng),
            TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .postLN), using: &rng),
        ]
        for module in modules { #expect(unlistedStorage(of: module).isEmpty, "\(unlistedStorage(of: module))") }
    }

    @Test func theMirrorTestCatchesAForgottenTensor() {
        final class Forgetful: Module {
            let listed = Tensor.zeros([2], requiresGradient: true)
            let forgotten = Tensor.zeros([2], requiresGradient: true)
            var isTraining = true
            var ownParameters: [(name: String, tensor: Tensor)] { [("listed", listed)] }
        }
        #expect(unlistedStorage(of: Forgetful()) == ["Forgetful.forgotten"])
    }

    @Test func parameterNamesAndCounts() {
        var rng = RandomGenerator(seed: 0)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .preLN), using: &rng)
        let names = encoder.namedParameters.map(\.name)
        #expect(names.first == "blocks.0.attention.qkv.weight")
        #expect(names.last == "finalNorm.bias")
        // Per block: qkv 24*8 + 24 = 216, output 8*8 + 8 = 72, two norms 2*16 = 32, fc1 16*8 + 16 = 144,
        // fc2 8*16 + 8 = 136: 600 in all; two blocks and the final norm (16): 1216.
        #expect(encoder.parameterCount == 2 * 600 + 16)
        #expect(Set(names).count == names.count)
    }

    @Test func tiedWeightsAreCountedOnce() {
        final class Tied: Module {
            let shared = Tensor.zeros([3], requiresGradient: true)
            var isTraining = true
            var ownParameters: [(name: String, tensor: Tensor)] { [("a", shared), ("b", shared)] }
        }
        #expect(Tied().namedParameters.map(\.name) == ["a"])
    }

    @Test func trainAndEvalReachEveryModule() {
        var rng = RandomGenerator(seed: 0)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 1, dimension: 4, headCount: 1, feedForwardDimension: 8, placement: .postLN,
                                         dropout: 0.5), using: &rng)
        encoder.eval()
        #expect(!encoder.blocks[0].dropout.isTraining && !encoder.blocks[0].attention.attentionDropout.isTraining)
        // In eval mode dropout is the identity: two passes agree exactly.
        let x = Tensor.normal([1, 3, 4], using: &rng)
        #expect(encoder(x).output.scalars == encoder(x).output.scalars)
        encoder.train()
        #expect(encoder.blocks[0].dropout.isTraining)
        #expect(encoder(x).output.scalars != encoder(x).output.scalars)
    }

    @Test func dropoutKeepsTheExpectation() {
        var rng = RandomGenerator(seed: 0)
        let dropout = Dropout(0.25, using: &rng)
        let y = dropout(Tensor.ones([100_000])).scalars
        let zeros = y.filter { $0 == 0 }.count
        #expect(abs(Float(zeros) / 100_000 - 0.25) < 0.01)  // about p of the elements are dropped
        #expect(abs(y.reduce(0, +) / 100_000 - 1) < 0.01)   // and the survivors scaled by 1/(1-p)
    }

    @Test func paddedPositionsReceiveNoAttention() {
        var rng = RandomGenerator(seed: 3)
        let attention = MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng)
        let x = Tensor.normal([1, 5, 8], using: &rng)
        let (_, weights) = attention(x, keyPaddingMask: Tensor(shape: [1, 5], [0, 0, 0, 1, 1]), returnWeights: true)
        let w = weights!  // [1, 2, 5, 5]
        for head in 0..<2 { for query in 0..<5 {
            #expect(w[0, head, query, 3] == 0 && w[0, head, query, 4] == 0)
            #expect(abs((0..<5).map { w[0, head, query, $0] }.reduce(0, +) - 1) < 1e-5)
        } }
    }

    @Test func encoderRecordsEveryBlock() {
        var rng = RandomGenerator(seed: 0)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 3, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .postLN), using: &rng)
        let x = Tensor.normal([2, 4, 8], using: &rng)
        let result = encoder(x, recordBlocks: true)
        let (output, records) = (result.output, result.blocks)
        #expect(records.count == 3)
        #expect(records.last!.output.scalars == output.scalars)  // post-LN: no final norm
        #expect(records.allSatisfy { $0.feedForward.shape == [2, 4, 8] && $0.selfAttention.shape == [2, 4, 8] })
    }
}
