// From a sequence to one vector: the mean and standard deviation of each channel over a clip's valid frames,
// the statistics pooling of speaker and keyword models and of the SUPERB benchmark's utterance-level tasks
// (Yang et al., 2021). The same pooling reads log-mel energies and an encoder's blocks, so that the probe
// after it compares features, not poolings.
import Autograd

/// x [B, T, C] with `lengths[b]` valid frames per row -> [B, 2C]: each channel's mean over the valid frames,
/// then each channel's standard deviation (population, divided by the frame count). No graph.
public func meanAndDeviationOverTime(_ x: Tensor, lengths: [Int]) -> Tensor {
    require(x.rank == 3 && lengths.count == x.shape[0], "meanAndDeviationOverTime: x \(x.shape) must be [B, T, C] with \(lengths.count) lengths")
    let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
    require(lengths.allSatisfy { $0 >= 1 && $0 <= t }, "meanAndDeviationOverTime: every length must be in 1...\(t), got \(lengths)")
    let values = x.storage.pointer
    var result = [Float](repeating: 0, count: b * 2 * c)
    for row in 0..<b {
        var sum = [Double](repeating: 0, count: c), square = [Double](repeating: 0, count: c)
        for frame in 0..<lengths[row] {
            let base = (row * t + frame) * c
            for channel in 0..<c { let v = Double(values[base + channel]); sum[channel] += v; square[channel] += v * v }
        }
        let n = Double(lengths[row])
        for channel in 0..<c {
            let mean = sum[channel] / n
            result[row * 2 * c + channel] = Float(mean)
            result[row * 2 * c + c + channel] = Float(max(0, square[channel] / n - mean * mean).squareRoot())
        }
    }
    return Tensor(shape: [b, 2 * c], result)
}
