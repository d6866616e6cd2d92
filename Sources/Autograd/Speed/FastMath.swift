// Scalar exp and erf, and SIMD sums, dot products and maxima over a row. The vector exp and erf, and the
// kernels built on them, are in LaneKernels.swift. libm's expf and erff are accurate but are function
// calls the compiler cannot vectorize; in the vision model, GELU and softmax spent most of their time in
// them (measured with callgrind: erff + expf were 20% of a training step's instructions).

/// Eight floats: one AVX register, the unit of the reductions below (and Autograd's `Lanes`).
public typealias Float8 = SIMD8<Float>

/// e^x for one float: the SIMD kernel (LaneKernels.swift) on one lane, so scalar and vector paths give
/// identical results.
@inline(__always)
public func fastExp(_ x: Float) -> Float { fastExp(Lanes(repeating: x))[0] }

/// erf(x) for one float (the SIMD kernel of LaneKernels.swift on one lane).
@inline(__always)
public func fastErf(_ x: Float) -> Float { fastErf(Lanes(repeating: x))[0] }

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

/// (x[0] - mean)^2 + ... + (x[n-1] - mean)^2, added as `vectorDot` adds (eight partial sums, then the
/// leftover elements), so the same float as `vectorDot` of a stored copy of x - mean with itself.
@inline(__always)
func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, from mean: Float, _ n: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let deviation = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - mean
        lanes += deviation * deviation
        i += 8
    }
    var total = lanes.sum()
    while i < n { let deviation = x[i] - mean; total += deviation * deviation; i += 1 }
    return total
}

/// (`vectorSum(x, n)`, `vectorDot(x, y, n)`) in one pass over x and y, each added in its own order.
@inline(__always)
func sumAndDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> (sum: Float, dot: Float) {
    var sums = SIMD8<Float>(), dots = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let u = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        sums += u
        dots += u * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var (sum, dot) = (sums.sum(), dots.sum())
    while i < n { sum += x[i]; dot += x[i] * y[i]; i += 1 }
    return (sum, dot)
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
