// How much of an encoder's output is the same at every position of a sequence. The analysis of variance splits
// each channel's spread over all valid positions into a part between sequences (how far each sequence's mean is
// from the overall mean) and a part within them:
//   sum (x - mean)^2 = sum over sequences n_b (mean_b - mean)^2 + sum over sequences sum (x - mean_b)^2.
// The share of the first part tells a representation of the tokens (small: a random encoder keeps about 1%) from
// one that has become a code of the whole sequence (near 1). Neither data2vec's collapse monitor, which reads the
// variance of the targets over the batch, nor LayerNorm, which normalizes each position, sees the difference;
// instance normalization over time removes the between-sequence part by construction.
import Autograd

/// The share of an encoder output's variance that lies between sequences: accumulate batches x [B, T, D] with
/// `add`, read `share` (between-sequence sum of squares over the total, summed over the D channels; 0 when the
/// outputs do not vary). Only the first `lengths[b]` positions of each row count.
public struct SequenceVarianceShare {
    private var count = 0.0
    private var sum: [Double] = []
    private var sumOfSquares: [Double] = []
    /// Per channel, the sum over sequences of n_b * mean_b^2.
    private var sequenceMeanSquares: [Double] = []

    public init() {}

    /// Adds the valid positions of x [B, T, D] (all T when `lengths` is nil).
    public mutating func add(_ x: Tensor, lengths: [Int]? = nil) {
        require(x.rank == 3, "SequenceVarianceShare.add: x \(x.shape) must be [B, T, D]")
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let lengths = lengths ?? Array(repeating: t, count: b)
        require(lengths.count == b && lengths.allSatisfy { (0...t).contains($0) }, "SequenceVarianceShare.add: \(b) lengths in 0...\(t) expected, got \(lengths)")
        if sum.isEmpty { (sum, sumOfSquares, sequenceMeanSquares) = (Array(repeating: 0, count: d), Array(repeating: 0, count: d), Array(repeating: 0, count: d)) }
        require(sum.count == d, "SequenceVarianceShare.add: width \(d), but earlier batches had \(sum.count)")
        let values = x.storage.pointer
        for row in 0..<b where lengths[row] > 0 {
            var rowSum = [Double](repeating: 0, count: d)
            for position in 0..<lengths[row] {
                let base = (row * t + position) * d
                for channel in 0..<d {
                    let v = Double(values[base + channel])
                    rowSum[channel] += v
                    sumOfSquares[channel] += v * v
                }
            }
            let n = Double(lengths[row])
            for channel in 0..<d {
                sum[channel] += rowSum[channel]
                sequenceMeanSquares[channel] += rowSum[channel] * rowSum[channel] / n
            }
            count += n
        }
    }

    /// Between-sequence sum of squares over the total sum of squares, both summed over the channels.
    public var share: Double {
        guard count > 0 else { return 0 }
        var (total, between) = (0.0, 0.0)
        for channel in sum.indices {
            let correction = sum[channel] * sum[channel] / count
            total += sumOfSquares[channel] - correction
            between += sequenceMeanSquares[channel] - correction
        }
        return total > 0 ? min(1, max(0, between / total)) : 0
    }
}
