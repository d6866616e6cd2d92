// The data2vec loss (paper section 3.4; fairseq `data2vec_audio.py`, `data2vec_text.py`):
//   per masked position n: l_n = sum over the D channels of  (f - y)^2            if beta = 0 (speech)
//                                                           smoothL1_beta(f - y)   otherwise (text: 4)
//   loss = scale * mean over masked positions of l_n,   scale = 1/sqrt(D) by default (`loss_scale: null`).
// Only masked positions enter: the caller passes the rows of the masked positions.
import Autograd
import Foundation
import NN

/// The regression loss at the masked positions (see the top of this file).
public struct Data2VecLoss: Sendable {
    /// `loss_beta`: 0 means L2.
    public var beta: Float
    /// `loss_scale`: nil means 1/sqrt(D).
    public var scale: Float?

    /// Smooth L1 with `beta` (0 = L2), times `scale` (nil = 1 / sqrt(D)).
    public init(beta: Float, scale: Float? = nil) {
        self.beta = beta
        self.scale = scale
    }

    /// prediction, target: [N, D] rows at the masked positions. Returns a scalar.
    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) -> Tensor {
        require(prediction.shape == target.shape && prediction.rank == 2,
                     "Data2VecLoss: prediction \(prediction.shape) and target \(target.shape) must both be [N, D]")
        let perElement = Loss.smoothL1(prediction, target, beta: beta, reduction: .none)
        let perPosition = perElement.sum(alongAxes: [1])
        return perPosition.mean() * (scale ?? 1 / Float(prediction.shape[1]).squareRoot())
    }
}

/// fairseq's `compute_var` (`data2vec_audio.py`): the standard deviation of each channel over all rows (unbiased,
/// with 1e-6 inside the root), averaged over channels. A collapsed representation (every position the
/// same vector) gives about 0.001; healthy ones are of order 1 after normalization.
public func collapseVariance(_ y: Tensor) -> Float {
    require(y.rank == 2 && y.shape[0] >= 2, "collapseVariance: needs [N >= 2, D], got \(y.shape)")
    let (n, d) = (y.shape[0], y.shape[1])
    let p = y.storage.pointer
    // Each column is added up from row 0 down, in Doubles: eight columns side by side in one SIMD register
    // for the whole walk down the rows (the same Doubles as one column at a time, with one load per eight
    // floats). Threads take columns, so the sums do not depend on the thread count.
    let means = UnsafeMutablePointer<Double>.allocate(capacity: 2 * d), variances = means + d
    defer { means.deallocate() }
    Parallel.forEachChunk(of: d, minimumPerChunk: 16) { columns in
        addColumns(of: p, rows: n, width: d, columns: columns, into: means, centeredOn: nil)
        for c in columns { means[c] /= Double(n) }
        addColumns(of: p, rows: n, width: d, columns: columns, into: variances, centeredOn: means)
    }
    var total: Double = 0
    for c in 0..<d { total += (variances[c] / Double(n - 1) + 1e-6).squareRoot() }
    return Float(total / Double(d))
}

/// sums[c] = the sum over rows r of x or, given means, of (x - means[c])^2, with x = Double(p[r * width + c]),
/// for every c in `columns`, each added up from row 0 down.
@inline(__always)
private func addColumns(of p: UnsafePointer<Float>, rows: Int, width: Int, columns: Range<Int>,
                        into sums: UnsafeMutablePointer<Double>, centeredOn means: UnsafeMutablePointer<Double>?) {
    @inline(__always) func term(_ x: SIMD8<Double>, _ mean: SIMD8<Double>?) -> SIMD8<Double> {
        guard let mean else { return x }
        let v = x - mean
        return v * v
    }
    var c = columns.lowerBound
    while c + 8 <= columns.upperBound {
        let mean = means.map { UnsafeRawPointer($0 + c).loadUnaligned(as: SIMD8<Double>.self) }
        var sum = SIMD8<Double>()
        for r in 0..<rows { sum += term(SIMD8<Double>(UnsafeRawPointer(p + r * width + c).loadUnaligned(as: SIMD8<Float>.self)), mean) }
        UnsafeMutableRawPointer(sums + c).storeBytes(of: sum, as: SIMD8<Double>.self)
        c += 8
    }
    for c in c..<columns.upperBound {
        var sum: Double = 0
        for r in 0..<rows {
            let x = Double(p[r * width + c])
            if let means { let v = x - means[c]; sum += v * v } else { sum += x }
        }
        sums[c] = sum
    }
}
