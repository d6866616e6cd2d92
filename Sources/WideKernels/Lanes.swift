// The sixteen-lane copy of Autograd's lane kernels. LaneKernels.swift here is a symbolic link to
// Sources/Autograd/Speed/LaneKernels.swift: the same source, compiled in this module with Lanes = SIMD16<Float>
// and `-target-cpu skylake-avx512` (Package.swift), so that every vector instruction works on one
// AVX-512 register of sixteen floats. Nothing here may run on a CPU without AVX-512: Autograd calls
// `Wide` only when `LaneWidth.current` is `.sixteen` (Sources/Autograd/Speed/LaneWidth.swift), and no other
// module imports this one.

/// Sixteen floats: one AVX-512 register.
typealias Lanes = SIMD16<Float>

/// Eight floats at p in the low half, zeros in the high half (the last eight columns of a row).
@_transparent
func loadEight(_ p: UnsafePointer<Float>) -> Lanes {
    Lanes(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8())
}

/// Stores the low half of v at p.
@_transparent
func storeEight(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self) }

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

    /// Attention's softmax down the columns of the transposed scores, in place: `keys` rows of `width`
    /// floats (a multiple of 8), row j plus `keyBias[j]` (0 or -infinity) first; columns from `queries` on come out 0.
    public static func softmaxColumns(_ scores: UnsafeMutablePointer<Float>, keys: Int, queries: Int, width: Int, keyBias: UnsafePointer<Float>) {
        LaneKernels.softmaxColumns(scores, keys: keys, queries: queries, width: width, keyBias: keyBias)
    }

    /// dS = A * (dA - columnsum(dA * A)) in place on the transposed layout (`keys` rows of `width` floats).
    public static func softmaxGradientColumns(_ dScores: UnsafeMutablePointer<Float>, attention: UnsafePointer<Float>, keys: Int, width: Int) {
        LaneKernels.softmaxGradientColumns(dScores, attention: attention, keys: keys, width: width)
    }
}
