// Branch-free exp and erf for the element kernels. libm's expf and erff are accurate but are function
// calls the compiler cannot vectorize; these are plain arithmetic, so a loop over them becomes SIMD code
// (with -target-cpu haswell: 8 floats per instruction). In the vision model, GELU and softmax spend
// most of their time here (measured with callgrind: erff + expf were 20% of a training step's instructions).

/// Eight floats: one AVX register, the unit every kernel below works in.
public typealias Float8 = SIMD8<Float>

/// e^x for eight lanes, relative error below 2e-7 on [-87, 88] (Cephes' expf method): write x = n ln 2 + r
/// with n = round(x / ln 2) and |r| <= ln 2 / 2, approximate e^r by a degree-6 polynomial, and multiply by
/// 2^n by building the float's exponent bits directly. Below -87.3 (where e^x underflows) it returns
/// exactly 0, so a score of -infinity (a padded key) gets exactly zero attention weight.
///
/// Written on SIMD8 values rather than as a scalar function in a loop: a loop the compiler must vectorize
/// by itself stays scalar whenever it cannot prove that input and output do not overlap (softmax works in
/// place), and scalar, this is 20 instructions per element. `addingProduct` is one fused multiply-add.
@_transparent  // always inlined, even where @inline(__always) was not honoured (a call per 8 floats costs a third)
public func fastExp(_ x: Float8) -> Float8 {
    // Clamp with comparisons and `replacing`: SIMD min/max/clamped are scalarized at this target.
    var clamped = x.replacing(with: -87.3, where: x .< -87.3)
    clamped.replace(with: 88.7, where: clamped .> 88.7)
    // Round x / ln 2 to an integer n with the "magic number" trick: adding 1.5 * 2^23 leaves n in the low
    // mantissa bits. (Converting to Int32 would trap on overflow, and that branch stops vectorization.)
    let shifted = Float8(repeating: 12_582_912).addingProduct(clamped, Float8(repeating: 1.44269504088896341))
    let n = shifted - 12_582_912
    // r = x - n ln 2, with ln 2 split in two so that n * 0.693359375 is exact.
    let r = clamped.addingProduct(n, Float8(repeating: -0.693359375)).addingProduct(n, Float8(repeating: 2.12194440e-4))
    var p = Float8(repeating: 1.9875691500e-4)
    p = Float8(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = Float8(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = Float8(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = Float8(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = Float8(repeating: 5.0000001201e-1).addingProduct(p, r)
    let er = (r + 1).addingProduct(p, r * r)
    let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23  // 2^n from its exponent bits
    let result = er * unsafeBitCast(exponent, to: Float8.self)
    return result.replacing(with: 0, where: x .< -87.3)
}

/// e^x for one float: the SIMD kernel on one lane, so scalar and vector paths give identical results.
@inline(__always)
public func fastExp(_ x: Float) -> Float { fastExp(Float8(repeating: x))[0] }

/// erf(x) for eight lanes by Abramowitz and Stegun 7.1.26: erf(|x|) = 1 - (a1 t + ... + a5 t^5) e^(-x^2),
/// t = 1 / (1 + p|x|), absolute error below 1.5e-7 in exact arithmetic, 5e-7 in Float32; odd symmetry.
@_transparent
public func fastErf(_ x: Float8) -> Float8 {
    let sign = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
    let a = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Float8.self)
    let t = 1 / Float8(repeating: 1).addingProduct(a, Float8(repeating: 0.3275911))
    var poly = Float8(repeating: 1.061405429)
    poly = Float8(repeating: -1.453152027).addingProduct(poly, t)
    poly = Float8(repeating: 1.421413741).addingProduct(poly, t)
    poly = Float8(repeating: -0.284496736).addingProduct(poly, t)
    poly = Float8(repeating: 0.254829592).addingProduct(poly, t)
    let y = Float8(repeating: 1) - poly * t * fastExp(-a * a)
    return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | sign, to: Float8.self)
}

/// erf(x) for one float (the SIMD kernel on one lane).
@inline(__always)
public func fastErf(_ x: Float) -> Float { fastErf(Float8(repeating: x))[0] }

/// Maps x[0..<n] to y[0..<n] (y may be x) through a SIMD kernel, eight floats at a time; the last partial
/// group goes through the same kernel on a zero-padded copy, so every element is computed alike.
/// Transparent, so that it is inlined before anything else is optimized; a kernel passed as a named
/// `@_transparent` function is then inlined into the loop too (a closure literal may stay a call).
@_transparent
public func map8(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ kernel: (Float8) -> Float8) {
    var i = 0
    while i + 8 <= n {
        UnsafeMutableRawPointer(y + i).storeBytes(of: kernel(UnsafeRawPointer(x + i).loadUnaligned(as: Float8.self)), as: Float8.self)
        i += 8
    }
    guard i < n else { return }
    var tail = Float8()
    for j in 0..<(n - i) { tail[j] = x[i + j] }
    let mapped = kernel(tail)
    for j in 0..<(n - i) { y[i + j] = mapped[j] }
}

/// Like `map8`, with a second input z of the same length: y[i] = kernel(x[i], z[i]).
@_transparent
public func map8(_ x: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                 _ kernel: (Float8, Float8) -> Float8) {
    var i = 0
    while i + 8 <= n {
        let result = kernel(UnsafeRawPointer(x + i).loadUnaligned(as: Float8.self), UnsafeRawPointer(z + i).loadUnaligned(as: Float8.self))
        UnsafeMutableRawPointer(y + i).storeBytes(of: result, as: Float8.self)
        i += 8
    }
    guard i < n else { return }
    var (a, b) = (Float8(), Float8())
    for j in 0..<(n - i) { a[j] = x[i + j]; b[j] = z[i + j] }
    let mapped = kernel(a, b)
    for j in 0..<(n - i) { y[i + j] = mapped[j] }
}

/// Like `map8`, with two outputs: (y[i], w[i]) = kernel(x[i]).
@_transparent
public func map8(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, alsoWriting w: UnsafeMutablePointer<Float>,
                 _ n: Int, _ kernel: (Float8) -> (Float8, Float8)) {
    var i = 0
    while i + 8 <= n {
        let (first, second) = kernel(UnsafeRawPointer(x + i).loadUnaligned(as: Float8.self))
        UnsafeMutableRawPointer(y + i).storeBytes(of: first, as: Float8.self)
        UnsafeMutableRawPointer(w + i).storeBytes(of: second, as: Float8.self)
        i += 8
    }
    guard i < n else { return }
    var tail = Float8()
    for j in 0..<(n - i) { tail[j] = x[i + j] }
    let (first, second) = kernel(tail)
    for j in 0..<(n - i) { y[i + j] = first[j]; w[i + j] = second[j] }
}

/// Like `map8`, with three inputs of the same length: y[i] = kernel(x[i], z[i], u[i]).
@_transparent
public func map8(_ x: UnsafePointer<Float>, _ z: UnsafePointer<Float>, _ u: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                 _ n: Int, _ kernel: (Float8, Float8, Float8) -> Float8) {
    var i = 0
    while i + 8 <= n {
        let result = kernel(UnsafeRawPointer(x + i).loadUnaligned(as: Float8.self), UnsafeRawPointer(z + i).loadUnaligned(as: Float8.self),
                            UnsafeRawPointer(u + i).loadUnaligned(as: Float8.self))
        UnsafeMutableRawPointer(y + i).storeBytes(of: result, as: Float8.self)
        i += 8
    }
    guard i < n else { return }
    var (a, b, c) = (Float8(), Float8(), Float8())
    for j in 0..<(n - i) { a[j] = x[i + j]; b[j] = z[i + j]; c[j] = u[i + j] }
    let mapped = kernel(a, b, c)
    for j in 0..<(n - i) { y[i + j] = mapped[j] }
}

// Sums, dot products and maxima over a row. A loop like `for i in 0..<n { sum += x[i] }` stays scalar:
// floating-point addition is not associative, so the compiler may not reorder it into SIMD lanes.
// These helpers do the reordering explicitly, with 8 partial sums (one AVX register), then add the
// lanes and the leftover elements. The result differs from the sequential sum by rounding only.

/// x[0] + ... + x[n-1].
@inline(__always)
public func vectorSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < n { total += x[i]; i += 1 }
    return total
}

/// x[0] y[0] + ... + x[n-1] y[n-1].
@inline(__always)
public func vectorDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < n { total += x[i] * y[i]; i += 1 }
    return total
}

/// The largest of x[0..<n] (-infinity when n = 0).
@inline(__always)
public func vectorMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n {
        // Compare and replace: `pointwiseMax` and `.max()` are scalarized at this target (NaN rules).
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        lanes.replace(with: v, where: v .> lanes)
        i += 8
    }
    let half = lanes.lowHalf.replacing(with: lanes.highHalf, where: lanes.highHalf .> lanes.lowHalf)
    let quarter = half.lowHalf.replacing(with: half.highHalf, where: half.highHalf .> half.lowHalf)
    var result = quarter[1] > quarter[0] ? quarter[1] : quarter[0]
    while i < n { if x[i] > result { result = x[i] }; i += 1 }
    return result
}
