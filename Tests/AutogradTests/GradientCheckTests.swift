// A finite-difference gradient check for every differentiable op, including broadcasting cases.
// Each case builds small seeded inputs and the function to check. Inputs are kept away from kinks
// (relu and abs at 0, ties in max) where the derivative is not defined.
import Autograd
import Testing

/// One op to check: its inputs (made fresh per run) and the computation.
struct OpCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shapes: [[Int]]
    /// Inputs are uniform in [low, high) unless `makeInputs` is given.
    var low: Float = -2, high: Float = 2
    var tolerance: Float = 1e-2
    let function: @Sendable ([Tensor]) -> Tensor

    var testDescription: String { name }

    func inputs() -> [Tensor] {
        var rng = RandomGenerator(seed: 7)
        return shapes.map { Tensor.uniform($0, low: low, high: high, using: &rng, requiresGradient: true) }
    }
}

/// Values bounded away from 0 (for log, sqrt, division, pow, abs, relu).
private func awayFromZero(_ t: Tensor) -> Tensor { t.abs() + 0.5 }

let opCases: [OpCase] = [
    // arithmetic, same shapes and broadcast shapes
    OpCase(name: "add", shapes: [[2, 3], [2, 3]]) { $0[0] + $0[1] },
    OpCase(name: "add broadcast [2,3]+[3]", shapes: [[2, 3], [3]]) { $0[0] + $0[1] },
    OpCase(name: "add broadcast [2,1,4]+[3,1]", shapes: [[2, 1, 4], [3, 1]]) { $0[0] + $0[1] },
    OpCase(name: "subtract broadcast [4]-[2,4]", shapes: [[4], [2, 4]]) { $0[0] - $0[1] },
    OpCase(name: "multiply", shapes: [[3, 2], [3, 2]]) { $0[0] * $0[1] },
    OpCase(name: "multiply broadcast [3,1]*[1,4]", shapes: [[3, 1], [1, 4]]) { $0[0] * $0[1] },
    OpCase(name: "multiply by scalar tensor", shapes: [[2, 3], []]) { $0[0] * $0[1] },
    OpCase(name: "divide broadcast", shapes: [[2, 3], [3]], low: 0.5, high: 2) { $0[0] / $0[1] },
    OpCase(name: "negate", shapes: [[5]]) { -$0[0] },
    OpCase(name: "minimum broadcast", shapes: [[2, 3], [3]]) { Tensor.minimum($0[0], $0[1]) },
    OpCase(name: "maximum", shapes: [[2, 3], [2, 3]]) { Tensor.maximum($0[0], $0[1]) },
    OpCase(name: "where broadcast", shapes: [[2, 3], [3]]) { x in
        Tensor.where(Tensor(shape: [2, 1], [1, 0]), x[0], x[1])
    },
    OpCase(name: "where, a mask vector at masked positions ([2,3,1] ? [4] : [2,3,4])", shapes: [[4], [2, 3, 4]]) { x in
        Tensor.where(Tensor(shape: [2, 3, 1], [1, 0, 0, 1, 1, 0]), x[0], x[1])
    },
    // unary
    OpCase(name: "square", shapes: [[6]]) { $0[0].squared() },
    OpCase(name: "sqrt", shapes: [[6]], low: 0.5, high: 3) { $0[0].squareRoot() },
    OpCase(name: "pow 3", shapes: [[6]]) { $0[0].power(3) },
    OpCase(name: "pow -1.5", shapes: [[6]], low: 0.5, high: 2) { $0[0].power(-1.5) },
    OpCase(name: "exp", shapes: [[6]]) { $0[0].exp() },
    OpCase(name: "log", shapes: [[6]], low: 0.5, high: 3) { $0[0].log() },
    OpCase(name: "abs", shapes: [[6]]) { awayFromZero($0[0]) * $0[0].abs() },
    OpCase(name: "tanh", shapes: [[6]]) { $0[0].tanh() },
    OpCase(name: "sigmoid", shapes: [[6]], low: -6, high: 6) { $0[0].sigmoid() },
    OpCase(name: "relu", shapes: [[6]], low: 0.2, high: 2) { ($0[0] * Tensor([1, -1, 1, -1, 1, -1])).relu() },
    OpCase(name: "gelu erf", shapes: [[8]], low: -3, high: 3) { $0[0].gelu(.erf) },
    OpCase(name: "gelu tanh", shapes: [[8]], low: -3, high: 3) { $0[0].gelu(.tanh) },
    OpCase(name: "clamp", shapes: [[8]], low: -2, high: 2) { $0[0].clamped(min: -1.05, max: 0.95) },
    OpCase(name: "smooth L1, both branches (|d| up to 4, beta 1)", shapes: [[3, 4], [3, 4]]) {
        Tensor.smoothL1($0[0], $0[1], beta: 1)
    },
    // reductions
    OpCase(name: "sum all", shapes: [[2, 3]]) { $0[0].sum() },
    OpCase(name: "sum axis 0 keep", shapes: [[2, 3, 2]]) { $0[0].sum(alongAxes: [0], keepingDimensions: true) },
    OpCase(name: "sum axes [0,2]", shapes: [[2, 3, 2]]) { $0[0].sum(alongAxes: [0, 2]) },
    OpCase(name: "mean axis -1", shapes: [[3, 4]]) { $0[0].mean(alongAxes: [-1]) },
    OpCase(name: "max axis 1", shapes: [[3, 4, 2]]) { $0[0].max(alongAxis: 1) },
    OpCase(name: "variance axis -1", shapes: [[3, 5]]) { $0[0].variance(alongAxes: [-1]) },
    // shape ops
    OpCase(name: "reshape", shapes: [[2, 6]]) { $0[0].reshaped([3, -1]) * Tensor.arange(4) },
    OpCase(name: "permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    OpCase(name: "transpose", shapes: [[3, 5]]) { $0[0].transposed() },
    OpCase(name: "expand", shapes: [[3, 1]]) { $0[0].expanded(to: [2, 3, 4]) },
    OpCase(name: "slice axis 1", shapes: [[2, 5, 3]]) { $0[0].sliced(1..<4, along: 1) },
    OpCase(name: "concatenate axis 1", shapes: [[2, 2], [2, 3]]) { Tensor.concatenate($0, along: 1) },
    OpCase(name: "stack axis 1", shapes: [[2, 3], [2, 3], [2, 3]]) { Tensor.stack($0, along: 1) },
    OpCase(name: "pad", shapes: [[2, 3]]) { $0[0].padded([(1, 0), (2, 1)], value: 0.5) },
    // indexing
    OpCase(name: "indexSelect rows (embedding, repeats)", shapes: [[5, 3]]) { $0[0].indexSelect([4, 0, 4, 2], along: 0) },
    OpCase(name: "indexSelect axis 1", shapes: [[2, 5, 3]]) { $0[0].indexSelect([3, 1], along: 1) },
    OpCase(name: "indexPut", shapes: [[4, 3], [2, 3]]) { $0[0].indexPut([1, 3], values: $0[1]) },
    OpCase(name: "maskedFill", shapes: [[2, 3]]) { $0[0].maskedFill(Tensor(shape: [1, 3], [0, 1, 0]), with: -5) },
    // products
    OpCase(name: "matmul 2-D", shapes: [[3, 4], [4, 2]]) { Tensor.matmul($0[0], $0[1]) },
    OpCase(name: "matmul A^T", shapes: [[4, 3], [4, 2]]) { Tensor.matmul($0[0], $0[1], transposeA: true) },
    OpCase(name: "matmul B^T", shapes: [[3, 4], [2, 4]]) { Tensor.matmul($0[0], $0[1], transposeB: true) },
    OpCase(name: "matmul A^T B^T", shapes: [[4, 3], [2, 4]]) { Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true) },
    OpCase(name: "matmul batched", shapes: [[2, 3, 4], [2, 4, 5]]) { Tensor.matmul($0[0], $0[1]) },
    OpCase(name: "linear with bias, batched input", shapes: [[2, 3, 4], [5, 4], [5]]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) },
    OpCase(name: "linear without bias", shapes: [[3, 4], [2, 4]]) { Tensor.linear($0[0], weight: $0[1], bias: nil) },
    OpCase(name: "multiHeadAttention 2 heads", shapes: [[2, 3, 12]]) { Tensor.multiHeadAttention(packed: $0[0], headCount: 2).context },
    OpCase(name: "frameConvolution stride 2", shapes: [[2, 9, 3], [4, 3, 3]]) { $0[0].frameConvolution(weight: $0[1], stride: 2) },
    OpCase(name: "frameConvolution kernel 2 stride 2", shapes: [[1, 8, 2], [3, 2, 2]]) { $0[0].frameConvolution(weight: $0[1], stride: 2) },
    // Attention dropout: a fixed seed draws the same mask at every evaluation, so finite differences apply.
    OpCase(name: "multiHeadAttention with dropout", shapes: [[2, 5, 12]]) {
        Tensor.multiHeadAttention(packed: $0[0], headCount: 2, dropout: AttentionDropout(probability: 0.3, seed: 7)).context
    },
    OpCase(name: "multiHeadAttention with padding", shapes: [[2, 4, 6]]) {
        Tensor.multiHeadAttention(packed: $0[0], headCount: 1, keyPaddingMask: Tensor(shape: [2, 4], [0, 0, 0, 1, 0, 0, 0, 0])).context
    },
    OpCase(name: "matmul batched B^T (attention scores)", shapes: [[2, 3, 4], [2, 5, 4]]) { Tensor.matmul($0[0], $0[1], transposeB: true) },
    OpCase(name: "matmul batch x shared matrix", shapes: [[2, 3, 4], [4, 5]]) { Tensor.matmul($0[0], $0[1]) },
    OpCase(name: "matmul batched A^T x shared matrix", shapes: [[2, 4, 3], [4, 5]]) { Tensor.matmul($0[0], $0[1], transposeA: true) },
    OpCase(name: "matmul shared matrix x batch", shapes: [[3, 4], [2, 4, 5]]) { Tensor.matmul($0[0], $0[1]) },
    // softmax family
    OpCase(name: "softmax last axis", shapes: [[3, 4]]) { $0[0].softmax() },
    OpCase(name: "softmax axis 0", shapes: [[3, 4]]) { $0[0].softmax(alongAxis: 0) },
    OpCase(name: "logSoftmax", shapes: [[2, 3, 4]]) { $0[0].logSoftmax(alongAxis: 1) },
    OpCase(name: "softmax cross-entropy with ignored label", shapes: [[4, 5]]) {
        Tensor.softmaxCrossEntropy(logits: $0[0], labels: [1, -100, 4, 0], ignoredLabel: -100)
    },
    // normalization and convolution
    OpCase(name: "layerNorm without affine", shapes: [[3, 6]]) { $0[0].layerNorm() },
    OpCase(name: "layerNorm with affine", shapes: [[2, 2, 5], [5], [5]]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
    OpCase(name: "conv1d", shapes: [[2, 2, 7], [3, 2, 3], [3]]) { $0[0].conv1d(weight: $0[1], bias: $0[2]) },
    OpCase(name: "conv1d stride 2 padding 1", shapes: [[1, 2, 8], [2, 2, 3]]) { $0[0].conv1d(weight: $0[1], stride: 2, padding: 1) },
    OpCase(name: "conv1d groups 2", shapes: [[2, 4, 6], [4, 2, 3], [4]]) { $0[0].conv1d(weight: $0[1], bias: $0[2], padding: 1, groups: 2) },
    // a composite: a two-layer network
    OpCase(name: "composite MLP", shapes: [[4, 3], [3, 5], [5], [5, 2]]) { x in
        Tensor.matmul((Tensor.matmul(x[0], x[1]) + x[2]).tanh(), x[3]).softmax()
    },
]

@Suite("Gradient checks")
struct GradientCheckTests {
    @Test(arguments: opCases)
    func backpropagationMatchesFiniteDifferences(_ op: OpCase) {
        let report = GradientCheck.check(op.inputs(), tolerance: op.tolerance, op.function)
        #expect(report.passed, "\(op.name): \(report)")
    }

    /// The checker itself must be able to fail: a deliberately wrong backward rule is caught.
    @Test func checkerCatchesAWrongGradient() {
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.uniform([5], low: 0.5, high: 2, using: &rng, requiresGradient: true)
        // detached() hides the dependence of one factor on x: the backward misses half the gradient of x * x.
        let report = GradientCheck.check([x]) { $0[0] * $0[0].detached() }
        #expect(!report.passed)
    }
}
