// Accuracy, and results over several seeds reported as mean +- spread.
import Autograd
import Foundation

/// The fraction of rows of `logits` [N, C] whose largest entry is at the row's label.
public func accuracy(logits: Tensor, labels: [Int]) -> Float {
    require(logits.rank == 2 && logits.shape[0] == labels.count,
                 "accuracy: logits \(logits.shape) do not match \(labels.count) labels")
    let classes = logits.shape[1], values = logits.storage.pointer
    var correct = 0
    for (row, label) in labels.enumerated() {
        var best = 0
        for c in 1..<max(classes, 1) where values[row * classes + c] > values[row * classes + best] { best = c }
        if best == label { correct += 1 }
    }
    return Float(correct) / Float(max(labels.count, 1))
}

/// One measurement repeated with several seeds.
///
/// ```swift
/// var probe = SeedStatistics()
/// for seed in 0..<3 { probe.append(runProbe(seed: seed)) }
/// print(probe.summary(percent: true))  // "67.8% +- 0.4 (3 seeds)"
/// ```
public struct SeedStatistics: Sendable, Equatable {
    /// One value per seed.
    public private(set) var values: [Float] = []

    /// Statistics of `values`.
    public init(_ values: [Float] = []) { self.values = values }

    /// Adds the next seed's value.
    public mutating func append(_ value: Float) { values.append(value) }

    /// The mean (NaN when empty).
    public var mean: Float { values.isEmpty ? .nan : values.reduce(0, +) / Float(values.count) }
    /// Sample standard deviation (n - 1); 0 for one value.
    public var standardDeviation: Float {
        guard values.count > 1 else { return 0 }
        let m = mean
        return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(values.count - 1)).squareRoot()
    }
    /// Half the range: the "+-" of `summary`.
    public var halfRange: Float { values.isEmpty ? 0 : ((values.max() ?? 0) - (values.min() ?? 0)) / 2 }

    /// "97.1%" for one value, "97.1% +- 0.4 (3 seeds)" for several (+- is half the range).
    public func summary(percent: Bool = true, decimals: Int = 1) -> String {
        let scale: Float = percent ? 100 : 1, unit = percent ? "%" : ""
        let m = String(format: "%.\(decimals)f", scale * mean)
        guard values.count > 1 else { return m + unit }
        return m + unit + " +- " + String(format: "%.\(decimals)f", scale * halfRange) + " (\(values.count) seeds)"
    }

    /// The individual values, "47.8, 51.2, 51.2".
    public func listed(percent: Bool = true, decimals: Int = 1) -> String {
        values.map { String(format: "%.\(decimals)f", (percent ? 100 : 1) * $0) }.joined(separator: ", ")
    }
}
