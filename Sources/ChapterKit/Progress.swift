// A progress line for long loops: step, metrics, steps per second and time left.
import Foundation

/// A line that reports a loop's progress: step, metrics, speed, time left.
public final class ProgressLine {
    /// The number of steps of the loop.
    public let total: Int
    /// What the loop is ("pretrain").
    public let label: String
    private let start = Date()
    private var lastPrinted = Date.distantPast
    private let isTerminal = isatty(STDOUT_FILENO) != 0

    /// A progress line for a loop of `total` steps.
    public init(_ label: String, total: Int) {
        self.label = label
        self.total = total
    }

    /// Reports that `step` (1-based) is done. Prints at most a few times per second on a terminal
    /// (rewriting one line), and about every tenth of the run otherwise (logs stay short).
    public func update(step: Int, _ metrics: KeyValuePairs<String, Float> = [:]) {
        let now = Date()
        let isLast = step == total
        let due = isTerminal ? now.timeIntervalSince(lastPrinted) > 0.25
                             : step % Swift.max(1, total / 10) == 0
        guard due || isLast else { return }
        lastPrinted = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(step) / Swift.max(elapsed, 1e-9)
        let remaining = Double(total - step) / Swift.max(rate, 1e-9)
        let values = metrics.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: "  ")
        let line = String(format: "  %@ %d/%d  %@  %.1f steps/s  %@ %@", label, step, total, values, rate,
                          isLast ? "took" : "eta", formatDuration(isLast ? elapsed : remaining))
        if isTerminal {
            print("\r\u{1B}[K" + line, terminator: isLast ? "\n" : "")
            fflush(nil)
        } else {
            print(line)
            fflush(nil)
        }
    }
}

/// "42.0 s", "3 min 05 s".
public func formatDuration(_ seconds: Double) -> String {
    seconds < 60 ? String(format: "%.1f s", seconds) : String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
}

/// Measures the wall time of `body` in seconds.
public func measure<T>(_ body: () throws -> T) rethrows -> (result: T, seconds: Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
}

/// A moving average over the last `window` values (over fewer at the start), for noisy training curves.
public func movingAverage(_ values: [Double], window: Int) -> [Double] {
    var result: [Double] = [], sum = 0.0
    for (i, v) in values.enumerated() {
        sum += v
        if i >= window { sum -= values[i - window] }
        result.append(sum / Double(min(i + 1, window)))
    }
    return result
}
