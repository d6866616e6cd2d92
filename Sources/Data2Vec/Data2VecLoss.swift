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
    // Row by row, every column's running sums side by side: each column is still added up from row 0 down
    // (the same Doubles as one column at a time), but memory is read in order, a row at a time. Threads
    // take columns, so the sums do not depend on the thread count.
    let means = UnsafeMutablePointer<Double>.allocate(capacity: 2 * d), variances = means + d
    defer { means.deallocate() }
    means.initialize(repeating: 0, count: 2 * d)
    Parallel.forEachChunk(of: d, minimumPerChunk: 16) { columns in
        for r in 0..<n { for c in columns { means[c] += Double(p[r * d + c]) } }
        for c in columns { means[c] /= Double(n) }
        for r in 0..<n { for c in columns { let v = Double(p[r * d + c]) - means[c]; variances[c] += v * v } }
    }
    var total: Double = 0
    for c in 0..<d { total += (variances[c] / Double(n - 1) + 1e-6).squareRoot() }
    return Float(total / Double(d))
}
