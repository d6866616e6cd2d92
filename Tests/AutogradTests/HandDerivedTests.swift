// Hand-derived values: each expected number comes with its derivation, so a failing test says what
// the right answer is and why.
import Autograd
import Foundation
import Testing

@Suite("Hand-derived values")
struct HandDerivedTests {
    @Test func scalarEngineChainRule() {
        // f = (a * b + c)^2 with a = 2, b = -3, c = 10: u = ab + c = 4, f = 16.
        // df/du = 2u = 8; df/da = 8b = -24; df/db = 8a = 16; df/dc = 8.
        let a = Value(2), b = Value(-3), c = Value(10)
        let f = (a * b + c).power(2)
        f.backward()
        #expect(f.data == 16)
        #expect(a.grad == -24 && b.grad == 16 && c.grad == 8)
    }

    @Test func scalarEngineReusedNodeAddsBothPaths() {
        // f = a * a: df/da = 2a = 6 at a = 3 (both uses of a contribute).
        let a = Value(3)
        (a * a).backward()
        #expect(a.grad == 6)
    }

    @Test func tensorEngineAgreesWithScalarEngine() {
        // The same f = tanh(a * b + c) on both engines.
        let (av, bv, cv) = (Value(0.5), Value(-1.5), Value(0.25))
        let fv = (av * bv + cv).tanh()
        fv.backward()
        let a = Tensor(scalar: 0.5, requiresGradient: true), b = Tensor(scalar: -1.5, requiresGradient: true)
        let c = Tensor(scalar: 0.25, requiresGradient: true)
        let f = (a * b + c).tanh()
        f.backward()
        #expect(Swift.abs(Double(f.item) - fv.data) < 1e-6)
        #expect(Swift.abs(Double(a.grad!.item) - av.grad) < 1e-6)
        #expect(Swift.abs(Double(b.grad!.item) - bv.grad) < 1e-6)
        #expect(Swift.abs(Double(c.grad!.item) - cv.grad) < 1e-6)
    }

    @Test func matmulSmallExample() {
        // [[1,2,3],[4,5,6]] . [[7,8],[9,10],[11,12]] = [[58, 64], [139, 154]]  (1*7+2*9+3*11 = 58, ...)
        let a = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [3, 2], [7, 8, 9, 10, 11, 12])
        #expect(Tensor.matmul(a, b).scalars == [58, 64, 139, 154])
        // With both stored transposed: (a^T)^T . (b^T)^T is the same product.
        #expect(Tensor.matmul(a.transposed(), b.transposed(), transposeA: true, transposeB: true).scalars == [58, 64, 139, 154])
    }

    @Test func softmaxValuesAndRowsSumToOne() {
        // softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6.
        let y = Tensor([0, Float(Foundation.log(2.0)), Float(Foundation.log(3.0))]).softmax()
        for (value, expected) in zip(y.scalars, [1.0 / 6, 2.0 / 6, 3.0 / 6] as [Float]) { #expect(Swift.abs(value - expected) < 1e-6) }
        // Large inputs do not overflow (the maximum is subtracted first), and every row sums to 1.
        var rng = RandomGenerator(seed: 3)
        let big = Tensor.uniform([4, 7], low: -500, high: 500, using: &rng).softmax()
        let sums = big.sum(alongAxes: [1]).scalars
        #expect(sums.allSatisfy { Swift.abs($0 - 1) < 1e-5 })
        #expect(!big.scalars.contains { $0.isNaN })
    }

    @Test func crossEntropyOfUniformLogitsIsLogOfClassCount() {
        // All logits equal: p = 1/C for every class, so the loss is -log(1/C) = log C.
        let loss = Tensor.softmaxCrossEntropy(logits: Tensor.zeros([3, 10]), labels: [0, 5, 9])
        #expect(Swift.abs(loss.item - Float(Foundation.log(10.0))) < 1e-6)
    }

    @Test func layerNormValues() {
        // x = [1, 2, 3, 4]: mean 2.5, biased variance 1.25; y = (x - 2.5) / sqrt(1.25 + eps).
        let y = Tensor([1, 2, 3, 4]).layerNorm(epsilon: 0)
        let expected: [Float] = [-1.5, -0.5, 0.5, 1.5].map { $0 / Float(1.25).squareRoot() }
        for (value, e) in zip(y.scalars, expected) { #expect(Swift.abs(value - e) < 1e-6) }
        // With weight 2 and bias 1: 2y + 1.
        let z = Tensor([1, 2, 3, 4]).layerNorm(weight: Tensor.full([4], 2), bias: Tensor.ones([4]), epsilon: 0)
        for (value, e) in zip(z.scalars, expected) { #expect(Swift.abs(value - (2 * e + 1)) < 1e-6) }
    }

    @Test func conv1dByHand() {
        // x = [1, 2, 3, 4, 5], w = [1, 0, -1] (a difference filter), bias 0.5, padding 1:
        // xpad = [0, 1, 2, 3, 4, 5, 0]; y[t] = xpad[t] - xpad[t+2] + 0.5 = [-1.5, -1.5, -1.5, -1.5, 4.5].
        let x = Tensor(shape: [1, 1, 5], [1, 2, 3, 4, 5]), w = Tensor(shape: [1, 1, 3], [1, 0, -1])
        let y = x.conv1d(weight: w, bias: Tensor([0.5]), padding: 1)
        #expect(y.shape == [1, 1, 5])
        #expect(y.scalars == [-1.5, -1.5, -1.5, -1.5, 4.5])
        // Stride 2 without padding: windows start at 0 and 2: [1-3, 3-5] = [-2, -2].
        #expect(x.conv1d(weight: w, stride: 2).scalars == [-2, -2])
    }

    @Test func geluForms() {
        // GELU(0) = 0; GELU(x) -> x for large x; erf and tanh forms differ by < 1e-3.
        // GELU_erf(1) = Phi(1) = 0.8413447.
        let x = Tensor([-3, -1, 0, 1, 3, 20])
        let exact = x.gelu(.erf).scalars, approximate = x.gelu(.tanh).scalars
        #expect(exact[2] == 0 && Swift.abs(exact[5] - 20) < 1e-5)
        #expect(Swift.abs(exact[3] - 0.8413447) < 1e-6)
        #expect(zip(exact, approximate).allSatisfy { Swift.abs($0 - $1) < 1e-3 })
    }

    @Test func varianceIsBiased() {
        // [1, 2, 3, 4]: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, / 4 = 1.25.
        #expect(Tensor([1, 2, 3, 4]).variance().item == 1.25)
    }

    @Test func reductionsKeepOrDropAxes() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(x.sum(alongAxes: [0]).scalars == [5, 7, 9])
        #expect(x.sum(alongAxes: [1], keepingDimensions: true).shape == [2, 1])
        #expect(x.max(alongAxis: 1).scalars == [3, 6])
        #expect(x.mean().item == 3.5)
    }

    @Test func shapeOpsMoveTheRightElements() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(x.sliced(1..<3, along: 1).scalars == [2, 3, 5, 6])
        #expect(Tensor.concatenate([x, x], along: 0).shape == [4, 3])
        #expect(Tensor.stack([x, x], along: 2).scalars == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
        #expect(x.padded([(0, 0), (1, 1)]).scalars == [0, 1, 2, 3, 0, 0, 4, 5, 6, 0])
        #expect(Tensor([7, 8]).expanded(to: [2, 2]).scalars == [7, 8, 7, 8])
        #expect(x.indexSelect([2, 0], along: 1).scalars == [3, 1, 6, 4])
        #expect(x.indexPut([0], values: Tensor(shape: [1, 3], [9, 9, 9])).scalars == [9, 9, 9, 4, 5, 6])
        #expect(Tensor.where(Tensor([1, 0, 1]), Tensor([1, 2, 3]), Tensor(scalar: 0)).scalars == [1, 0, 3])
        // One condition per row: whole rows come from a (here a scalar, broadcast along the row) or from b.
        #expect(Tensor.where(Tensor(shape: [3, 1], [1, 0, 1]), Tensor(scalar: 7), Tensor(shape: [3, 2], [1, 2, 3, 4, 5, 6])).scalars
                == [7, 7, 3, 4, 7, 7])
    }
}

@Suite("Fast math")
struct FastMathTests {
    @Test func fastExpMatchesLibm() {
        // Relative error below 3e-7 over the whole useful range, and the limits.
        var worst: Float = 0
        for i in 0...20_000 {
            let x = -87 + 175 * Float(i) / 20_000
            worst = max(worst, abs(fastExp(x) - expf(x)) / expf(x))
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(fastExp(0) == 1 && fastExp(-.infinity) == 0 && fastExp(-1000) == 0)
    }

    @Test func fastErfMatchesLibm() {
        // Absolute error below 6e-7 (Abramowitz and Stegun 7.1.26: 1.5e-7 exactly; Float32 rounding adds the rest).
        var worst: Float = 0
        for i in 0...20_000 {
            let x = -6 + 12 * Float(i) / 20_000
            worst = max(worst, abs(fastErf(x) - erff(x)))
        }
        #expect(worst < 6e-7, "worst absolute error \(worst)")
    }
}
