// The committed logs of the runs the exercises ask for (results/exercises/, made by scripts/record-exercises.sh,
// and the chapters' own logs in results/). An exercise that asks the reader to run something and watch is
// checked here on the log of that run: the outcome its chapter's README states must be what the log shows.
import Foundation

/// One committed log, and the numbers in it.
struct ExerciseLog {
    let name: String
    let text: String

    /// `results/<name>.txt`, e.g. "exercises/ch02-learning-rate-2" or "ch05-vision".
    init(_ name: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        self.name = name
        text = try String(contentsOf: root.appendingPathComponent("results/\(name).txt"), encoding: .utf8)
    }

    /// The lines that contain `fragment`.
    func lines(containing fragment: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.contains(fragment) }
    }

    /// The numbers of the first line that contains `fragment`, in order ("98.4%" -> 98.4; "1,000" -> 1000).
    func numbers(onLineWith fragment: String) -> [Double] {
        guard let line = lines(containing: fragment).first else { return [] }
        return numbers(in: line)
    }

    /// The first number after `fragment` on its first line.
    func number(after fragment: String) -> Double? {
        guard let line = lines(containing: fragment).first, let range = line.range(of: fragment) else { return nil }
        return numbers(in: String(line[range.upperBound...])).first
    }

    func numbers(in line: String) -> [Double] {
        let pattern = try! NSRegularExpression(pattern: #"-?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?"#)
        return pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)).compactMap {
            Double(line[Range($0.range, in: line)!].replacingOccurrences(of: ",", with: ""))
        }
    }
}
