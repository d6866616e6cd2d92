// The element kernels that take the most time besides the matrix products: exp and erf, GELU forward and
// backward, and attention's softmax. They are written once, on `Lanes` (a SIMD vector of floats), and
// compiled twice:
//   - here, in Autograd, with Lanes = SIMD8<Float>: one AVX2 register, any x86-64 CPU since 2013;
//   - in the module WideKernels, whose LaneKernels.swift is a symbolic link to this very file, with
//     Lanes = SIMD16<Float> and `-target-cpu skylake-avx512`: one AVX-512 register, half the instructions.
// `LaneWidth` (LaneWidth.swift) picks the sixteen-lane copy at run time on a CPU with AVX-512.
//
// The two copies give the same bits. Each output element goes through the same IEEE operations (fused
// multiply-adds included) whatever the width: the softmax works down columns, one query per lane, so even
// its sums (a column's total, its dot product) are lane-wise, added as eight partial sums in a fixed order
// (`EightSums`); maxima do not depend on order. LaneWidthTests checks it bit for bit.
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

    /// dx = g GELU'(x), or dx += g GELU'(x) when `accumulating`, for n floats, from x, g and the kept Phi(x)
    /// (dx may be g: each element is read before it is written).
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

    /// Attention's softmax down the columns, in place. The scores are stored transposed (S^T, as
    /// Ops+Attention.swift lays them out): `keys` rows of `width` floats, `width` apart (a multiple of 8),
    /// column q holding query q's scores against every key. Row j gets `bias[j]` added (0 at a valid key,
    /// -infinity at a padded one), then every column c <- e^(c - max c) / sum e^(c - max c). Columns from
    /// `queries` to `width` only pad the rows and come out 0; so does a column whose every key is padded.
    ///
    /// Each lane is one query, so a column's maximum and sum are lane-wise operations over the rows, with
    /// nothing reduced across lanes. The sum is added as a row-major softmax adds a row: eight partial
    /// sums (keys j, j + 8, j + 16, ... into sum j % 8, in that order), then those eight one after the
    /// other. So it gives the same floats as that row-by-row kernel did on S (LaneWidthTests,
    /// `theColumnKernelsAddInTheOrderOfARow`).
    static func softmaxColumns(_ scores: UnsafeMutablePointer<Float>, keys: Int, queries: Int, width: Int,
                               keyBias bias: UnsafePointer<Float>) {
        var q = 0
        while q < width {
            // A whole vector of columns, or (with sixteen lanes) the last eight: `loadEight`/`storeEight`.
            let isHalf = width - q < Lanes.scalarCount
            let column = scores + q
            @inline(__always) func load(_ j: Int) -> Lanes { isHalf ? loadEight(column + j * width) : loadLanes(column + j * width) }
            @inline(__always) func store(_ v: Lanes, _ j: Int) {
                if isHalf { storeEight(v, column + j * width) } else { storeLanes(v, column + j * width) }
            }
            // Lanes past the last query are treated as columns of padded keys: -infinity, so exactly 0 at the end.
            var isPadding = Lanes.MaskStorage(repeating: 0) .!= 0
            for lane in Swift.max(0, Swift.min(queries - q, Lanes.scalarCount))..<Lanes.scalarCount { isPadding[lane] = true }
            // The bias and the maximum in one pass.
            var maxima = Lanes(repeating: -.infinity)
            for j in 0..<keys {
                let v = addingKeyBias(load(j), Lanes(repeating: bias[j])).replacing(with: -.infinity, where: isPadding)
                store(v, j)
                maxima.replace(with: v, where: v .> maxima)
            }
            maxima.replace(with: 0, where: maxima .== -.infinity)  // a fully padded column: all weights 0 (0/0 avoided below)
            // The exponentials and their eight partial sums.
            @inline(__always) func exponential(_ j: Int) -> Lanes {
                let e = fastExp(load(j) - maxima)
                store(e, j)
                return e
            }
            var sums = EightSums()
            sums.add(count: keys, exponential)
            let total = sums.total
            let inverse = (1 / total).replacing(with: 0, where: .!(total .> 0))
            for j in 0..<keys { store(load(j) * inverse, j) }
            q += isHalf ? 8 : Lanes.scalarCount
        }
    }

    /// The softmax rule backward, in place, on the transposed layout of `softmaxColumns`: for every column
    /// c of dA^T and A^T (`keys` rows of `width` floats, `width` apart), dS = A * (dA - sum(dA * A)), the
    /// sum over the column's keys added in the row-by-row kernel's order (see `softmaxColumns`).
    static func softmaxGradientColumns(_ dScores: UnsafeMutablePointer<Float>, attention: UnsafePointer<Float>, keys: Int, width: Int) {
        var q = 0
        while q < width {
            let isHalf = width - q < Lanes.scalarCount
            let (dColumn, aColumn) = (dScores + q, attention + q)
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> Lanes { isHalf ? loadEight(p) : loadLanes(p) }
            @inline(__always) func product(_ j: Int) -> Lanes { load(dColumn + j * width) * load(aColumn + j * width) }
            var sums = EightSums()
            sums.add(count: keys, product)
            let dot = sums.total
            for j in 0..<keys {
                let v = (load(dColumn + j * width) - dot) * load(aColumn + j * width)
                if isHalf { storeEight(v, dColumn + j * width) } else { storeLanes(v, dColumn + j * width) }
            }
            q += isHalf ? 8 : Lanes.scalarCount
        }
    }
}

/// Eight running sums of one vector each: term j goes to sum j % 8, and their total adds the eight one
/// after the other, as `SIMD8.sum()` adds its lanes. So a lane of the total is the float that a row of the
/// same terms got from the row-by-row softmax of earlier versions (eight partial sums in a SIMD8, then
/// `sum()`): the column kernels keep its order, and with it its numbers.
struct EightSums {
    var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes(), s4 = Lanes(), s5 = Lanes(), s6 = Lanes(), s7 = Lanes()

    /// Adds term(j) for j in 0..<count, term j to sum j % 8 (unrolled by eight, so the sums stay in registers).
    @_transparent
    mutating func add(count: Int, _ term: (Int) -> Lanes) {
        var start = 0
        while start + 8 <= count {
            s0 += term(start); s1 += term(start + 1); s2 += term(start + 2); s3 += term(start + 3)
            s4 += term(start + 4); s5 += term(start + 5); s6 += term(start + 6); s7 += term(start + 7)
            start += 8
        }
        if start < count { s0 += term(start) }
        if start + 1 < count { s1 += term(start + 1) }
        if start + 2 < count { s2 += term(start + 2) }
        if start + 3 < count { s3 += term(start + 3) }
        if start + 4 < count { s4 += term(start + 4) }
        if start + 5 < count { s5 += term(start + 5) }
        if start + 6 < count { s6 += term(start + 6) }
    }

    /// s0 + s1 + ... + s7, in that order.
    @_transparent
    var total: Lanes { s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 }
}
