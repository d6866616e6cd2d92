// The element kernels that take the most time besides the matrix products: exp and erf, GELU forward and
// backward, and attention's row softmax. They are written once, on `Lanes` (a SIMD vector of floats), and
// compiled twice:
//   - here, in Autograd, with Lanes = SIMD8<Float>: one AVX2 register, any x86-64 CPU since 2013;
//   - in the module WideKernels, whose LaneKernels.swift is a symbolic link to this very file, with
//     Lanes = SIMD16<Float> and `-target-cpu skylake-avx512`: one AVX-512 register, half the instructions.
// `LaneWidth` (LaneWidth.swift) picks the sixteen-lane copy at run time on a CPU with AVX-512.
//
// The two copies give the same bits. Each output element goes through the same IEEE operations (fused
// multiply-adds included) whatever the width; the only sums (a softmax row's total, a row's dot product)
// are added as eight partial sums in the order of the eight-lane code (`addLanes`, defined next to each
// copy's `Lanes`); maxima do not depend on order. LaneWidthTests checks it bit for bit.
//
// Everything below is plain arithmetic the compiler cannot hide a call in: libm's expf and erff are
// accurate but are function calls that stop vectorization, so exp and erf are written out.

/// e^x for every lane, relative error below 2e-7 on [-87, 88] (Cephes' expf method): write x = n ln 2 + r
/// with n = round(x / ln 2) and |r| <= ln 2 / 2, approximate e^r by a degree-6 polynomial, and multiply by
/// 2^n by building the float's exponent bits directly. Below -87.3 (where e^x underflows) it returns
/// exactly 0, so a score of -infinity (a padded key) gets exactly zero attention weight.
///
/// Written on SIMD values rather than as a scalar function in a loop: a loop the compiler must vectorize
/// by itself stays scalar whenever it cannot prove that input and output do not overlap (softmax works in
/// place), and scalar, this is 20 instructions per element. `addingProduct` is one fused multiply-add.
@_transparent  // always inlined, even where @inline(__always) was not honoured (a call per vector costs a third)
func fastExp(_ x: Lanes) -> Lanes {
    // Clamp with comparisons and `replacing`: SIMD min/max/clamped are scalarized at this target.
    var clamped = x.replacing(with: -87.3, where: x .< -87.3)
    clamped.replace(with: 88.7, where: clamped .> 88.7)
    // Round x / ln 2 to an integer n with the "magic number" trick: adding 1.5 * 2^23 leaves n in the low
    // mantissa bits. (Converting to Int32 would trap on overflow, and that branch stops vectorization.)
    let shifted = Lanes(repeating: 12_582_912).addingProduct(clamped, Lanes(repeating: 1.44269504088896341))
    let n = shifted - 12_582_912
    // r = x - n ln 2, with ln 2 split in two so that n * 0.693359375 is exact.
    let r = clamped.addingProduct(n, Lanes(repeating: -0.693359375)).addingProduct(n, Lanes(repeating: 2.12194440e-4))
    var p = Lanes(repeating: 1.9875691500e-4)
    p = Lanes(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = Lanes(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = Lanes(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = Lanes(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = Lanes(repeating: 5.0000001201e-1).addingProduct(p, r)
    let er = (r + 1).addingProduct(p, r * r)
    let exponent = (unsafeBitCast(shifted, to: Lanes.MaskStorage.self) &- 0x4B40_0000 &+ 127) &<< 23  // 2^n from its exponent bits
    let result = er * unsafeBitCast(exponent, to: Lanes.self)
    return result.replacing(with: 0, where: x .< -87.3)
}

/// erf(x) for every lane by Abramowitz and Stegun 7.1.26: erf(|x|) = 1 - (a1 t + ... + a5 t^5) e^(-x^2),
/// t = 1 / (1 + p|x|), absolute error below 1.5e-7 in exact arithmetic, 5e-7 in Float32; odd symmetry.
@_transparent
func fastErf(_ x: Lanes) -> Lanes {
    let bits = unsafeBitCast(x, to: Lanes.MaskStorage.self)
    let sign = bits & Lanes.MaskStorage(repeating: Int32(bitPattern: 0x8000_0000))
    let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: Lanes.self)
    let t = 1 / Lanes(repeating: 1).addingProduct(a, Lanes(repeating: 0.3275911))
    var poly = Lanes(repeating: 1.061405429)
    poly = Lanes(repeating: -1.453152027).addingProduct(poly, t)
    poly = Lanes(repeating: 1.421413741).addingProduct(poly, t)
    poly = Lanes(repeating: -0.284496736).addingProduct(poly, t)
    poly = Lanes(repeating: 0.254829592).addingProduct(poly, t)
    let y = Lanes(repeating: 1) - poly * t * fastExp(-a * a)
    return unsafeBitCast(unsafeBitCast(y, to: Lanes.MaskStorage.self) | sign, to: Lanes.self)
}

// A whole vector at p, and the partial vector at the end of a row: `count` < Lanes.scalarCount floats,
// the other lanes holding `filling`. The loops below run whole vectors in a loop of their own and the
// partial one after it: with one loop for both, the compiler built every vector lane by lane.

@_transparent
func loadLanes(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

@_transparent
func storeLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

@inline(__always)
func loadPartialLanes(_ p: UnsafePointer<Float>, count: Int, filling: Float = 0) -> Lanes {
    var v = Lanes(repeating: filling)
    for j in 0..<count { v[j] = p[j] }
    return v
}

@inline(__always)
func storePartialLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, count: Int) {
    for j in 0..<count { p[j] = v[j] }
}

/// Maps x[0..<n] to y[0..<n] (y may be x) through a SIMD kernel, a vector at a time; the last partial
/// vector goes through the same kernel on a zero-padded copy, so every element is computed alike.
/// Transparent, so that it is inlined before anything else is optimized; a kernel passed as a named
/// `@_transparent` function is then inlined into the loop too (a closure literal may stay a call).
@_transparent
func mapLanes(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ kernel: (Lanes) -> Lanes) {
    var i = 0
    while i + Lanes.scalarCount <= n {
        storeLanes(kernel(loadLanes(x + i)), y + i)
        i += Lanes.scalarCount
    }
    guard i < n else { return }
    storePartialLanes(kernel(loadPartialLanes(x + i, count: n - i)), y + i, count: n - i)
}

/// Like `mapLanes`, with a second input z of the same length: y[i] = kernel(x[i], z[i]).
@_transparent
func mapLanes(_ x: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
              _ kernel: (Lanes, Lanes) -> Lanes) {
    var i = 0
    while i + Lanes.scalarCount <= n {
        storeLanes(kernel(loadLanes(x + i), loadLanes(z + i)), y + i)
        i += Lanes.scalarCount
    }
    guard i < n else { return }
    storePartialLanes(kernel(loadPartialLanes(x + i, count: n - i), loadPartialLanes(z + i, count: n - i)), y + i, count: n - i)
}

/// Like `mapLanes`, with two outputs: (y[i], w[i]) = kernel(x[i]).
@_transparent
func mapLanes(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, alsoWriting w: UnsafeMutablePointer<Float>,
              _ n: Int, _ kernel: (Lanes) -> (Lanes, Lanes)) {
    var i = 0
    while i + Lanes.scalarCount <= n {
        let (first, second) = kernel(loadLanes(x + i))
        storeLanes(first, y + i)
        storeLanes(second, w + i)
        i += Lanes.scalarCount
    }
    guard i < n else { return }
    let (first, second) = kernel(loadPartialLanes(x + i, count: n - i))
    storePartialLanes(first, y + i, count: n - i)
    storePartialLanes(second, w + i, count: n - i)
}

/// Like `mapLanes`, with three inputs of the same length: y[i] = kernel(x[i], z[i], u[i]).
@_transparent
func mapLanes(_ x: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
              _ n: Int, _ kernel: (Lanes, Lanes, Lanes) -> Lanes) {
    var i = 0
    while i + Lanes.scalarCount <= n {
        storeLanes(kernel(loadLanes(x + i), loadLanes(z + i), loadLanes(u + i)), y + i)
        i += Lanes.scalarCount
    }
    guard i < n else { return }
    let count = n - i
    storePartialLanes(kernel(loadPartialLanes(x + i, count: count), loadPartialLanes(z + i, count: count),
                             loadPartialLanes(u + i, count: count)), y + i, count: count)
}

// The kernels are named transparent functions, not closure literals: a literal handed to `mapLanes`
// stayed a call per vector (its arguments split across two registers, its constants reloaded each time).

/// GELU(v) = v Phi(v), Phi(v) = (1 + erf(v / sqrt 2)) / 2 (no graph: Phi is not needed afterwards).
@_transparent
func geluKernel(_ v: Lanes) -> Lanes { 0.5 * v * (1 + fastErf(v * 0.70710678118654752)) }

/// (GELU(v), Phi(v)).
@_transparent
func geluKernelKeepingCDF(_ v: Lanes) -> (Lanes, Lanes) {
    let cdf = 0.5 * (1 + fastErf(v * 0.70710678118654752))
    return (v * cdf, cdf)
}

/// g GELU'(v) = g (Phi(v) + v phi(v)), phi(v) = e^(-v^2/2) / sqrt(2 pi), Phi(v) given.
@_transparent
func geluGradientKernel(_ v: Lanes, _ gradient: Lanes, _ cdf: Lanes) -> Lanes {
    gradient * (cdf + v * 0.39894228040143268 * fastExp(-0.5 * v * v))
}

/// score + bias, and -infinity where the bias is -infinity whatever the score held there (the padding
/// columns of a score row are never written).
@_transparent
func addingKeyBias(_ score: Lanes, _ bias: Lanes) -> Lanes {
    (score + bias).replacing(with: -.infinity, where: bias .< -1e30)
}

/// The loops each copy compiles: whole passes over arrays, called once per chunk of a tensor (GELU) or
/// per (sample, head) pair (attention), so the choice of copy costs one branch per call.
enum LaneKernels {
    /// y = GELU(x) for n floats (y may be x).
    static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        mapLanes(x, y, n, geluKernel)
    }

    /// y = GELU(x) and cdf = Phi(x) for n floats.
    static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, keepingCDF cdf: UnsafeMutablePointer<Float>,
                     count n: Int) {
        mapLanes(x, y, alsoWriting: cdf, n, geluKernelKeepingCDF)
    }

    /// dx = g GELU'(x), or dx += g GELU'(x) when `accumulating`, for n floats, from x, g and the kept Phi(x).
    static func geluGradient(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, cdf: UnsafePointer<Float>,
                             into dx: UnsafeMutablePointer<Float>, count n: Int, accumulating: Bool) {
        guard accumulating else { return mapLanes(x, g, cdf, dx, n, geluGradientKernel) }
        var i = 0
        while i + Lanes.scalarCount <= n {
            storeLanes(geluGradientKernel(loadLanes(x + i), loadLanes(g + i), loadLanes(cdf + i)) + loadLanes(dx + i), dx + i)
            i += Lanes.scalarCount
        }
        guard i < n else { return }
        let count = n - i
        let term = geluGradientKernel(loadPartialLanes(x + i, count: count), loadPartialLanes(g + i, count: count),
                                      loadPartialLanes(cdf + i, count: count))
        storePartialLanes(term + loadPartialLanes(dx + i, count: count), dx + i, count: count)
    }

    /// Attention's softmax, in place, on `rows` rows of `width` floats (a multiple of 8), `width` apart:
    /// each row gets `bias` added (0 at a valid key, -infinity at a padded one), then
    /// row <- e^(row - max) / sum e^(row - max). A row with every key padded becomes all zeros, not NaN.
    static func softmaxRows(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int, keyBias bias: UnsafePointer<Float>) {
        // Whole vectors, then (with sixteen lanes) possibly eight floats: `loadEight`/`storeEight`.
        let whole = width / Lanes.scalarCount * Lanes.scalarCount, rest = width - whole
        for r in 0..<rows {
            let row = scores + r * width
            // The bias and the maximum in one pass (the lanes past the row hold -infinity).
            var maxima = Lanes(repeating: -.infinity)
            var i = 0
            while i < whole {
                let v = addingKeyBias(loadLanes(row + i), loadLanes(bias + i))
                storeLanes(v, row + i)
                maxima.replace(with: v, where: v .> maxima)
                i += Lanes.scalarCount
            }
            if rest > 0 {
                let v = addingKeyBias(loadEight(row + i, filling: -.infinity), loadEight(bias + i, filling: -.infinity))
                storeEight(v, row + i)
                maxima.replace(with: v, where: v .> maxima)
            }
            var maximum = largestLane(maxima)
            if maximum == -.infinity { maximum = 0 }  // a fully padded row: all weights 0 (0/0 avoided below)
            // The exponentials and their sum (lanes past the row are e^-inf = 0, adding nothing).
            var sums = SIMD8<Float>()
            i = 0
            while i < whole {
                let e = fastExp(loadLanes(row + i) - maximum)
                storeLanes(e, row + i)
                addLanes(e, into: &sums)
                i += Lanes.scalarCount
            }
            if rest > 0 {
                let e = fastExp(loadEight(row + i, filling: -.infinity) - maximum)
                storeEight(e, row + i)
                addLanes(e, into: &sums)
            }
            let total = sums.sum()
            let inverse = total > 0 ? 1 / total : 0
            i = 0
            while i < whole {
                storeLanes(loadLanes(row + i) * inverse, row + i)
                i += Lanes.scalarCount
            }
            if rest > 0 { storeEight(loadEight(row + i) * inverse, row + i) }
        }
    }

    /// The softmax rule backward, in place: for `rows` rows of dA and A (`width` floats, `width` apart),
    /// dS = A * (dA - sum(dA * A)).
    static func softmaxGradientRows(_ dScores: UnsafeMutablePointer<Float>, attention: UnsafePointer<Float>, rows: Int, width: Int) {
        let whole = width / Lanes.scalarCount * Lanes.scalarCount, rest = width - whole
        for r in 0..<rows {
            let (dRow, aRow) = (dScores + r * width, attention + r * width)
            var sums = SIMD8<Float>()
            var i = 0
            while i < whole {
                addLanes(loadLanes(dRow + i) * loadLanes(aRow + i), into: &sums)
                i += Lanes.scalarCount
            }
            if rest > 0 { addLanes(loadEight(dRow + i) * loadEight(aRow + i), into: &sums) }
            let dot = sums.sum()
            i = 0
            while i < whole {
                storeLanes((loadLanes(dRow + i) - dot) * loadLanes(aRow + i), dRow + i)
                i += Lanes.scalarCount
            }
            if rest > 0 { storeEight((loadEight(dRow + i) - dot) * loadEight(aRow + i), dRow + i) }
        }
    }
}
