// The fused kernels split large tensors across threads (Parallel.swift) and sum with SIMD lanes
// (FastMath.swift). Here they run on inputs large enough to be split, and must agree with the same
// math written with simple ops (one thread, sequential sums) to rounding.
@testable import Autograd
import Foundation
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

    /// With a graph, GELU keeps Phi(x) from the forward pass for the backward pass. That must change no
    /// bit: the output equals the pass without a graph, (x / 2)(1 + erf(x / sqrt 2)), and the gradient
    /// equals g (Phi(x) + x e^(-x^2/2) / sqrt(2 pi)) with Phi computed afresh, element by element.
    @Test func geluKeepingPhiChangesNoBit() {
        var rng = RandomGenerator(seed: 37)
        let x = Tensor.normal([50_003], std: 4, using: &rng, requiresGradient: true)
        let w = Tensor.normal([50_003], using: &rng)
        let y = x.gelu()
        (y * w).sum().backward()
        let withoutGraph = Tensor.withoutGradients { x.gelu() }
        #expect(y.scalars == withoutGraph.scalars)
        let (xs, ws, dx) = (x.scalars, w.scalars, x.grad!.scalars)
        for i in xs.indices {
            let v = xs[i]
            let cdf = 0.5 * (1 + fastErf(v * 0.70710678118654752))
            let expected = ws[i] * (cdf + v * 0.39894228040143268 * fastExp(-0.5 * v * v))
            if dx[i] != expected { Issue.record("element \(i): x \(v), gradient \(dx[i]), expected \(expected)"); break }
        }
    }

    /// Without a graph (the EMA teacher), attention keeps no weights: each thread reuses one (sample, head)
    /// pair's buffer. The context must be the same floats as with a graph, on one and on two threads, and
    /// `returnWeights` must still return every pair's weights.
    @Test func attentionWithoutAGraphChangesNoBit() {
        var rng = RandomGenerator(seed: 41)
        let qkv = Tensor.normal([6, 13, 24], using: &rng, requiresGradient: true)
        let padding = Tensor(shape: [6, 13], (0..<78).map { $0 % 13 >= 10 && $0 / 13 % 2 == 0 ? 1 : 0 })
        for threads in [1, 2] {
            BLAS.withThreadCount(threads) {
                let recorded = Tensor.multiHeadAttention(packed: qkv, headCount: 4, keyPaddingMask: padding, returnWeights: true)
                let plain = Tensor.withoutGradients { Tensor.multiHeadAttention(packed: qkv, headCount: 4, keyPaddingMask: padding) }
                let plainWithWeights = Tensor.withoutGradients {
                    Tensor.multiHeadAttention(packed: qkv, headCount: 4, keyPaddingMask: padding, returnWeights: true)
                }
                #expect(plain.context.scalars == recorded.context.scalars)
                #expect(plain.weights == nil)
                #expect(plainWithWeights.context.scalars == recorded.context.scalars)
                #expect(plainWithWeights.weights!.scalars == recorded.weights!.scalars)
            }
        }
    }

    /// Broadcasting, `where`, `permuted` and `indexSelect` split their rows across threads when a tensor has
    /// at least 2 x 65,536 elements (here 200,704). A thread walks its rows exactly as one thread would, and
    /// no two threads write one element, so forward and backward give the bits of one thread. (The sums over
    /// a broadcast axis, the positions' and the mask vector's gradients, stay on one thread, as does the
    /// backward of the lookup, where repeated ids add into one row.)
    @Test func splitRowOpsGiveTheBitsOfOneThread() {
        var rng = RandomGenerator(seed: 43)
        let x = Tensor.normal([64, 49, 64], using: &rng, requiresGradient: true)
        let positions = Tensor.normal([49, 64], using: &rng, requiresGradient: true)
        let maskVector = Tensor.normal([64], using: &rng, requiresGradient: true)
        let mask = Tensor(shape: [64, 49, 1], (0..<64 * 49).map { _ in rng.uniform() < 0.4 ? 1 : 0 })
        let table = Tensor.normal([300, 64], using: &rng, requiresGradient: true)
        let ids = (0..<64 * 49).map { _ in rng.int(below: 300) }  // repeats: 3,136 ids into 300 rows
        let upstream = Tensor.normal([64, 64, 49], using: &rng)
        let parameters = [x, positions, maskVector, table]
        func run(threads: Int) -> [[Float]] { BLAS.withThreadCount(threads) {
            for p in parameters { p.zeroGradient() }
            let looked = table.indexSelect(ids).reshaped([64, 49, 64])
            let y = (Tensor.where(mask, maskVector, x + looked) + positions).permuted([0, 2, 1])
            (y * upstream).sum().backward()
            return [y.scalars] + parameters.map { $0.grad!.scalars }
        } }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one == two)
        // The lookup itself, against its definition.
        let looked = table.indexSelect(ids).scalars, rows = table.scalars
        #expect(ids.indices.allSatisfy { i in (0..<64).allSatisfy { looked[i * 64 + $0] == rows[ids[i] * 64 + $0] } })
    }

    /// The grouped convolution splits its (clip, group) products across the cores forward, and its groups
    /// backward: the same bits as one thread (the positional convolutions of speech: 8 groups of 8 channels, a
    /// kernel of 37, padded to keep the length), with and without a bias.
    @Test(arguments: [true, false]) func splitGroupedConvolutionGivesTheBitsOfOneThread(withBias: Bool) {
        var rng = RandomGenerator(seed: 47)
        let x = Tensor.normal([6, 64, 90], using: &rng, requiresGradient: true)
        let weight = Tensor.normal([64, 8, 37], std: 0.1, using: &rng, requiresGradient: true)
        let bias = Tensor.normal([64], using: &rng, requiresGradient: true)
        let upstream = Tensor.normal([6, 64, 90], using: &rng)
        let parameters = [x, weight, bias]
        func run(threads: Int) -> [[Float]] { BLAS.withThreadCount(threads) {
            for p in parameters { p.zeroGradient() }
            let y = x.conv1d(weight: weight, bias: withBias ? bias : nil, padding: 18, groups: 8)
            (y * upstream).sum().backward()
            return [y.scalars, x.grad!.scalars, weight.grad!.scalars]
        } }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one == two)
        #expect(one[0].count == 6 * 64 * 90)
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

    /// LayerNorm's one-pass helpers add in the very order of the helpers they replace, so the bits agree.
    @Test func layerNormHelpersEqualTheStoredCopyReductionsExactly() {
        var rng = RandomGenerator(seed: 35)
        for n in [1, 7, 8, 9, 49, 64, 67, 768] {
            let a = (0..<n).map { _ in 3 + rng.normal() }, b = (0..<n).map { _ in rng.normal() }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let mean = vectorSum(pa.baseAddress!, n) / Float(n)
                    let deviations = a.map { $0 - mean }
                    deviations.withUnsafeBufferPointer { pd in
                        #expect(sumOfSquaredDeviations(pa.baseAddress!, from: mean, n) == vectorDot(pd.baseAddress!, pd.baseAddress!, n))
                    }
                    let (sum, dot) = sumAndDot(pa.baseAddress!, pb.baseAddress!, n)
                    #expect(sum == vectorSum(pa.baseAddress!, n) && dot == vectorDot(pa.baseAddress!, pb.baseAddress!, n))
                }
            }
        }
    }
}

@Suite("Fused linear")
struct FusedLinearTests {
    /// A layer's output and its inputs' gradients for `upstream`: [y, dx, dweight, dbias].
    func outputAndGradients(_ f: () -> Tensor, inputs: [Tensor], upstream: Tensor) -> [[Float]] {
        for p in inputs { p.zeroGradient() }
        let y = f()
        y.backward(seed: upstream)
        return [y.scalars] + inputs.map { $0.grad!.scalars }
    }

    /// The fused op promises the very same numbers as the composed product plus bias (same arithmetic, same order).
    @Test func equalsMatmulPlusBiasExactly() {
        var rng = RandomGenerator(seed: 34)
        let x = Tensor.normal([6, 5, 7], using: &rng, requiresGradient: true)
        let weight = Tensor.normal([3, 7], using: &rng, requiresGradient: true)
        let bias = Tensor.normal([3], using: &rng, requiresGradient: true)
        let upstream = Tensor.normal([6, 5, 3], using: &rng)
        func run(_ f: () -> Tensor) -> [[Float]] { outputAndGradients(f, inputs: [x, weight, bias], upstream: upstream) }
        let fused = run { Tensor.linear(x, weight: weight, bias: bias) }
        let composed = run { Tensor.matmul(x, weight, transposeB: true) + bias }
        #expect(fused[0] == composed[0])
        for (a, b) in zip(fused.dropFirst(), composed.dropFirst()) {
            #expect(zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * (1 + Swift.abs($1)) })
        }
    }

    /// linearGELU is linear then GELU: the same floats with and without a graph (without one it overwrites
    /// the product in place), the same gradients, and the op names of the composition in the graph.
    @Test func linearGELUEqualsLinearThenGELU() {
        var rng = RandomGenerator(seed: 43)
        let x = Tensor.normal([4, 33, 24], using: &rng, requiresGradient: true)
        let weight = Tensor.normal([96, 24], std: 0.3, using: &rng, requiresGradient: true)
        let bias = Tensor.normal([96], using: &rng, requiresGradient: true)
        let upstream = Tensor.normal([4, 33, 96], using: &rng)
        func run(_ f: () -> Tensor) -> [[Float]] { outputAndGradients(f, inputs: [x, weight, bias], upstream: upstream) }
        let fused = run { Tensor.linearGELU(x, weight: weight, bias: bias) }
        #expect(fused == run { Tensor.linear(x, weight: weight, bias: bias).gelu() })
        #expect(Tensor.linearGELU(x, weight: weight, bias: bias).graphOperations.suffix(2) == ["linear", "gelu-erf"])
        let withoutGraph = Tensor.withoutGradients { Tensor.linearGELU(x, weight: weight, bias: bias) }
        #expect(withoutGraph.scalars == fused[0])
        #expect(Tensor.withoutGradients { Tensor.linearGELU(x, weight: weight, bias: nil) }.scalars
                == Tensor.linear(x, weight: weight, bias: nil).gelu().scalars)
    }

    /// The bias gradient's column sums (32 columns held in registers down the rows) add each column in the
    /// order of adding g to db row by row, so they must give the very same floats, for blocks of 32, of 8
    /// and single columns, starting anywhere.
    @Test(arguments: [0..<77, 5..<44, 32..<64, 3..<4, 0..<0])
    func columnSumsEqualRowByRowAdditionExactly(columns: Range<Int>) {
        var rng = RandomGenerator(seed: 35)
        let (rows, stride) = (57, 77)
        let g = Tensor.normal([rows, stride], std: 10, using: &rng).scalars
        let start = Tensor.normal([stride], using: &rng).scalars
        var expected = start
        for r in 0..<rows { for c in columns { expected[c] += g[r * stride + c] } }
        var sums = start
        g.withUnsafeBufferPointer { g in
            sums.withUnsafeMutableBufferPointer { db in
                addColumnSums(of: g.baseAddress!, rows: rows, stride: stride, columns: columns, into: db.baseAddress!)
            }
        }
        #expect(sums == expected)
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

@Suite("Products split across threads")
struct SplitProductTests {
    /// With OpenBLAS on one thread, the engine cuts a large product into one block of rows (or columns) of
    /// C per thread. Each block must agree with the whole product to rounding (OpenBLAS's optimized kernels
    /// round an element differently depending on where the block's edges fall, so not bit for bit), the
    /// same cut must give the same bits every time, and the result must be the product (checked against a
    /// loop in Double).
    @Test(arguments: [(200, 40, 150), (40, 200, 150), (37, 35, 900), (129, 16, 64)])
    func splitProductsAgreeWithTheWholeProduct(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = RandomGenerator(seed: 35)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for beta: Float in [0, 1] {
                    let a = (0..<(m * k)).map { _ in rng.normal() }, b = (0..<(k * n)).map { _ in rng.normal() }
                    let start = (0..<(m * n)).map { _ in rng.normal() }
                    let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
                    func product(chunks: Int) -> [Float] {
                        var c = start
                        BLAS.splitProduct(into: chunks, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                          alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c, ldc: n)
                        return c
                    }
                    let whole = product(chunks: 1)
                    for chunks in [2, 3] {
                        let split = product(chunks: chunks)
                        #expect(product(chunks: chunks) == split)
                        #expect(zip(split, whole).allSatisfy { Swift.abs($0 - $1) <= 1e-6 * Float(k) * (1 + Swift.abs($1)) })
                    }
                    for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 3), (17, n - 1)] where i < m {
                        var sum = 0.0
                        for p in 0..<k {
                            let x = transposeA ? a[p * lda + i] : a[i * lda + p], y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                            sum += Double(x) * Double(y)
                        }
                        let expected = 0.5 * sum + Double(beta) * Double(start[i * n + j])
                        #expect(Swift.abs(Double(whole[i * n + j]) - expected) < 1e-4 * Double(k))
                    }
                }
            }
        }
    }

    /// The worker pool runs every chunk of every region exactly once, region after region (the workers
    /// spinning or asleep in between), and also when several threads open regions at once (all but one
    /// then go through Dispatch).
    @Test func everyChunkRunsOnce() {
        let callers = 3, regions = 2_000
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: callers * regions * 4)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        let shared = UncheckedSendable(counts)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for region in 0..<regions {
                let chunks = 2 + region % 3
                if region % 500 == 0 { usleep(3_000) }  // long enough for the workers to fall asleep
                WorkerPool.shared.run(chunks: chunks) { chunk in shared.value[(caller * regions + region) * 4 + chunk] += 1 }
            }
        }
        for caller in 0..<callers {
            for region in 0..<regions {
                let row = Array(counts[((caller * regions + region) * 4)..<((caller * regions + region) * 4 + 4)])
                #expect(row == Array(repeating: 1, count: 2 + region % 3) + Array(repeating: 0, count: 2 - region % 3))
            }
        }
    }

    /// Work inside a chunk runs inline: a split inside a split would only queue behind busy cores.
    @Test func aChunkDoesNotSplitAgain() {
        #expect(!Parallel.isInsideRegion)
        Parallel.forEachChunk(of: 4, chunks: 2) { outer in
            #expect(Parallel.isInsideRegion)
            var calls: [Range<Int>] = []
            Parallel.forEachChunk(of: 10, chunks: 2) { calls.append($0) }
            #expect(calls == [0..<10])
            #expect(outer.count == 2)
        }
        #expect(!Parallel.isInsideRegion)
    }
}

@Suite("Thread count")
struct ThreadCountTests {
    /// A forward and backward pass large enough to be split (products by blocks of C, LayerNorm, GELU,
    /// attention's heads) gives the same bits every time on the same thread count, and on 1 and 2 threads
    /// the same numbers to rounding: LayerNorm's weight sums go by fixed blocks of rows and the bias sums
    /// by columns whatever the thread count, and only the products cut in two may round differently
    /// (OpenBLAS's optimized kernels; with its generic ones the bits are the same too).
    @Test func oneAndTwoThreadsAgree() {
        var rng = RandomGenerator(seed: 36)
        let x = Tensor.normal([24, 100, 32], using: &rng, requiresGradient: true)
        let qkv = Tensor.normal([96, 32], std: 0.2, using: &rng, requiresGradient: true)
        let w1 = Tensor.normal([128, 32], std: 0.2, using: &rng, requiresGradient: true)
        let b1 = Tensor.normal([128], using: &rng, requiresGradient: true)
        let w2 = Tensor.normal([32, 128], std: 0.1, using: &rng, requiresGradient: true)
        let gamma = Tensor.normal([32], using: &rng, requiresGradient: true)
        let parameters = [x, qkv, w1, b1, w2, gamma]
        func run(threads: Int) -> [[Float]] { BLAS.withThreadCount(threads) {
            for p in parameters { p.zeroGradient() }
            let h = x.layerNorm(weight: gamma)
            let attended = Tensor.multiHeadAttention(packed: Tensor.linear(h, weight: qkv, bias: nil), headCount: 2).context + h
            let y = Tensor.linear(Tensor.linear(attended, weight: w1, bias: b1).gelu(), weight: w2, bias: nil) + attended
            let loss = (y * y).mean()
            loss.backward()
            return [loss.scalars] + parameters.map { $0.grad!.scalars }
        } }
        let two = run(threads: 2)
        #expect(run(threads: 2) == two)
        for (a, b) in zip(run(threads: 1), two) {
            let scale = b.map(Swift.abs).max()!
            #expect(zip(a, b).allSatisfy { Swift.abs($0 - $1) <= 1e-4 * scale })
        }
    }
}
