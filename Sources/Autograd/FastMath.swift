// Branch-free exp and erf for the element kernels. libm's expf and erff are accurate but are function
// calls the compiler cannot vectorize; these are plain arithmetic, so a loop over them becomes SIMD code
// (with -target-cpu haswell: 8 floats per instruction). In the vision model, GELU and softmax spend
// most of their time here (measured with callgrind: erff + expf were 20% of a training step's instructions).

/// e^x, relative error below 2e-7 on [-87, 88] (Cephes' expf method): write x = n ln 2 + r with
/// n = round(x / ln 2) and |r| <= ln 2 / 2, approximate e^r by a degree-6 polynomial, and multiply by
/// 2^n by building the float's exponent bits directly. Below -87.3 (where e^x underflows) it returns
/// exactly 0, so a score of -infinity (a padded key) gets exactly zero attention weight.
@inline(__always)
public func fastExp(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -87.3), 88.7)
    // Round x / ln 2 to an integer n with the "magic number" trick: adding 1.5 * 2^23 leaves n in the low
    // mantissa bits. (Int32(someFloat) would trap on overflow, and that branch stops vectorization.)
    let shifted = clamped * 1.44269504088896341 + 12_582_912
    let n = shifted - 12_582_912
    // r = x - n ln 2, with ln 2 split in two so that n * 0.693359375 is exact.
    let r = clamped - n * 0.693359375 + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r * r + r + 1
    let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)  // 2^n from its exponent bits
    return x < -87.3 ? 0 : er * scale
}

/// erf(x) by Abramowitz and Stegun 7.1.26: erf(|x|) = 1 - (a1 t + ... + a5 t^5) e^(-x^2), t = 1 / (1 + p|x|),
/// absolute error below 1.5e-7 in exact arithmetic, 5e-7 in Float32; odd symmetry for x < 0.
@inline(__always)
public func fastErf(_ x: Float) -> Float {
    let a = Swift.abs(x)
    let t = 1 / (1 + 0.3275911 * a)
    var poly: Float = 1.061405429
    poly = poly * t - 1.453152027
    poly = poly * t + 1.421413741
    poly = poly * t - 0.284496736
    poly = poly * t + 0.254829592
    let y = 1 - poly * t * fastExp(-a * a)
    return x < 0 ? -y : y
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
        lanes = pointwiseMax(lanes, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
        i += 8
    }
    var result = lanes.max()
    while i < n { result = Swift.max(result, x[i]); i += 1 }
    return result
}
