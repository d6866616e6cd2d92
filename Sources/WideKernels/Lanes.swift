// The sixteen-lane copy of Autograd's lane kernels. LaneKernels.swift here is a symbolic link to
// Sources/Autograd/LaneKernels.swift: the same source, compiled in this module with Lanes = SIMD16<Float>
// and `-target-cpu skylake-avx512` (Package.swift), so that every vector instruction works on one
// AVX-512 register of sixteen floats. Nothing here may run on a CPU without AVX-512: Autograd calls
// `Wide` only when `LaneWidth.current` is `.sixteen` (Sources/Autograd/LaneWidth.swift), and no other
// module imports this one.

/// Sixteen floats: one AVX-512 register.
typealias Lanes = SIMD16<Float>

/// Adds a vector of sixteen terms to eight partial sums as the eight-lane code adds two vectors of eight:
/// first the low half, then the high half. So sums come out the same whatever the width.
@_transparent
func addLanes(_ v: Lanes, into sums: inout SIMD8<Float>) {
    sums += v.lowHalf
    sums += v.highHalf
}

/// Eight floats at p in the low half, `filling` in the high half (a row's last eight floats).
@_transparent
func loadEight(_ p: UnsafePointer<Float>, filling: Float = 0) -> Lanes {
    Lanes(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8(repeating: filling))
}

/// Stores the low half of v at p.
@_transparent
func storeEight(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self) }

/// The largest of the sixteen lanes, halving the vector four times (NaN lanes are skipped).
@_transparent
func largestLane(_ v: Lanes) -> Float {
    let half = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    let quarter = half.lowHalf.replacing(with: half.highHalf, where: half.highHalf .> half.lowHalf)
    let eighth = quarter.lowHalf.replacing(with: quarter.highHalf, where: quarter.highHalf .> quarter.lowHalf)
    return eighth[1] > eighth[0] ? eighth[1] : eighth[0]
}

/// The entry points Autograd calls on a CPU with AVX-512, one per loop of `LaneKernels`, same arguments
/// and same results (see LaneKernels.swift for what each computes).
public enum Wide {
    /// y[i] = GELU(x[i]) for i < count (y may be x).
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        LaneKernels.gelu(x, y, count: count)
    }

    /// y[i] = GELU(x[i]) and cdf[i] = Phi(x[i]) for i < count.
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, keepingCDF cdf: UnsafeMutablePointer<Float>,
                            count: Int) {
        LaneKernels.gelu(x, y, keepingCDF: cdf, count: count)
    }

    /// dx[i] = g[i] GELU'(x[i]) from the kept cdf[i] = Phi(x[i]), or dx[i] += that when `accumulating`.
    public static func geluGradient(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, cdf: UnsafePointer<Float>,
                                    into dx: UnsafeMutablePointer<Float>, count: Int, accumulating: Bool) {
        LaneKernels.geluGradient(x, g, cdf: cdf, into: dx, count: count, accumulating: accumulating)
    }

    /// Attention's softmax in place on `rows` rows of `width` floats (a multiple of 8), each plus `keyBias`
    /// (0 or -infinity per key) first.
    public static func softmaxRows(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int, keyBias: UnsafePointer<Float>) {
        LaneKernels.softmaxRows(scores, rows: rows, width: width, keyBias: keyBias)
    }

    /// dS = A * (dA - rowsum(dA * A)) in place on `rows` rows of `width` floats.
    public static func softmaxGradientRows(_ dScores: UnsafeMutablePointer<Float>, attention: UnsafePointer<Float>, rows: Int, width: Int) {
        LaneKernels.softmaxGradientRows(dScores, attention: attention, rows: rows, width: width)
    }
}
