// The fused kernels split large tensors across threads (Parallel.swift) and sum with SIMD lanes
// (FastMath.swift). Here they run on inputs large enough to be split, and must agree with the same
// math written with simple ops (one thread, sequential sums) to rounding.
import Autograd
import Testing

@Suite("Threaded and vectorized kernels")
struct ParallelKernelTests {
    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test func layerNormOnManyRowsEqualsItsFormula() {
        var rng = RandomGenerator(seed: 31)
        let x = Tensor.normal([1200, 13], std: 3, using: &rng, requiresGradient: true)  // 13: not a multiple of 8
        let weight = Tensor.normal([13], using: &rng, requiresGradient: true)
        let bias = Tensor.normal([13], using: &rng, requiresGradient: true)
        let upstream = Tensor.normal([1200, 13], using: &rng)
        func gradients(_ y: Tensor) -> (Tensor, [Tensor]) {
            for p in [x, weight, bias] { p.zeroGradient() }
            y.backward(seed: upstream)
            return (y, [x, weight, bias].map { $0.grad! })
        }
        let (fused, fusedGrads) = gradients(x.layerNorm(weight: weight, bias: bias))
        let centered = x - x.mean(alongAxes: [1], keepingDimensions: true)
        let formula = centered / (x.variance(alongAxes: [1], keepingDimensions: true) + 1e-5).squareRoot() * weight + bias
        let (reference, referenceGrads) = gradients(formula)
        #expect(maxDifference(fused, reference) < 1e-4)
        for (a, b) in zip(fusedGrads, referenceGrads) { #expect(maxDifference(a, b) < 2e-3 * (1 + b.scalars.map(Swift.abs).max()!)) }
    }

    @Test func geluOnALargeTensorMatchesTheSmallPath() {
        // 100,000 elements are split across threads; each value must equal the same op on one element.
        var rng = RandomGenerator(seed: 32)
        let x = Tensor.normal([100_000], std: 2, using: &rng, requiresGradient: true)
        let y = x.gelu()
        y.sum().backward()
        for i in stride(from: 0, to: 100_000, by: 9_973) {
            let single = Tensor([x.scalars[i]], requiresGradient: true)
            let ySingle = single.gelu()
            ySingle.sum().backward()
            #expect(y.scalars[i] == ySingle.scalars[0])
            #expect(x.grad!.scalars[i] == single.grad!.scalars[0])
        }
    }

    @Test func simdReductionsEqualSequentialSums() {
        var rng = RandomGenerator(seed: 33)
        for n in [0, 1, 7, 8, 9, 49, 64, 1000] {
            let a = (0..<n).map { _ in rng.normal() }, b = (0..<n).map { _ in rng.normal() }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let sum = a.reduce(0, +), dot = zip(a, b).map(*).reduce(0, +)
                    #expect(Swift.abs(vectorSum(pa.baseAddress!, n) - sum) < 1e-4 * Float(n + 1))
                    #expect(Swift.abs(vectorDot(pa.baseAddress!, pb.baseAddress!, n) - dot) < 1e-4 * Float(n + 1))
                    #expect(vectorMax(pa.baseAddress!, n) == (a.max() ?? -.infinity))
                }
            }
        }
    }
}

@Suite("Fused linear")
struct FusedLinearTests {
    /// The fused op promises the very same numbers as the composed product plus bias (same arithmetic, same order).
    @Test func equalsMatmulPlusBiasExactly() {
        var rng = RandomGenerator(seed: 34)
        let x = Tensor.normal([6, 5, 7], using: &rng, requiresGradient: true)
        let weight = Tensor.normal([3, 7], using: &rng, requiresGradient: true)
        let bias = Tensor.normal([3], using: &rng, requiresGradient: true)
        let upstream = Tensor.normal([6, 5, 3], using: &rng)
        func run(_ f: () -> Tensor) -> [[Float]] {
            for p in [x, weight, bias] { p.zeroGradient() }
            let y = f()
            y.backward(seed: upstream)
            return [y.scalars] + [x, weight, bias].map { $0.grad!.scalars }
        }
        let fused = run { Tensor.linear(x, weight: weight, bias: bias) }
        let composed = run { Tensor.matmul(x, weight, transposeB: true) + bias }
        #expect(fused[0] == composed[0])
        for (a, b) in zip(fused.dropFirst(), composed.dropFirst()) {
            #expect(zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * (1 + Swift.abs($1)) })
        }
    }
}

@Suite("Time-major convolution")
struct FrameConvolutionTests {
    @Test func equalsConv1dOnTheTransposedInput() {
        var rng = RandomGenerator(seed: 8)
        let x = Tensor.normal([3, 50, 4], using: &rng, requiresGradient: true)
        let w = Tensor.normal([6, 4, 5], using: &rng, requiresGradient: true)
        let r = Tensor.normal([3, 16, 6], using: &rng)
        let fast = x.frameConvolution(weight: w, stride: 3)
        (fast * r).sum().backward()
        let (dxFast, dwFast) = (x.grad!.scalars, w.grad!.scalars)
        x.zeroGradient(); w.zeroGradient()
        let reference = x.transposed(1, 2).conv1d(weight: w, stride: 3).transposed(1, 2)
        (reference * r).sum().backward()
        #expect(fast.shape == [3, 16, 6])
        #expect(zip(fast.scalars, reference.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(dxFast, x.grad!.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(dwFast, w.grad!.scalars).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
