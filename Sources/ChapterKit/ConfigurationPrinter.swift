// Prints a run's configuration, field by field, so that every knob of the run is on screen (and in the
// log) before any work starts. It walks the value with Mirror: nested structs become dotted names.
import Foundation

/// The fields of `value` as "name = value" lines, nested structs as dotted names:
///
/// ```
/// encoder.blockCount = 4
/// encoder.dimension = 64
/// optimizer.clipNorm = 3.0
/// ```
public func configurationLines(_ value: Any, prefix: String = "") -> [String] {
    let mirror = Mirror(reflecting: value)
    guard mirror.displayStyle == .struct, !mirror.children.isEmpty else { return [prefix.isEmpty ? describe(value) : "\(prefix) = \(describe(value))"] }
    return mirror.children.flatMap { child -> [String] in
        guard let label = child.label else { return [] }
        let name = prefix.isEmpty ? label : "\(prefix).\(label)"
        let childMirror = Mirror(reflecting: child.value)
        if childMirror.displayStyle == .struct && !childMirror.children.isEmpty { return configurationLines(child.value, prefix: name) }
        return ["\(name) = \(describe(child.value))"]
    }
}

/// A value as a reader would write it: optionals unwrapped ("nil" when empty), arrays with their elements.
func describe(_ value: Any) -> String {
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional: return mirror.children.first.map { describe($0.value) } ?? "nil"
    case .collection: return "[" + mirror.children.map { describe($0.value) }.joined(separator: ", ") + "]"
    case .tuple where !mirror.children.isEmpty, .struct where !mirror.children.isEmpty:
        return "(" + mirror.children.map { ($0.label.map { $0.hasPrefix(".") ? "" : "\($0): " } ?? "") + describe($0.value) }.joined(separator: ", ") + ")"
    case .dictionary:
        let pairs = mirror.children.compactMap { Mirror(reflecting: $0.value).children.map(\.value) }
            .map { "\(describe($0[0])): \(describe($0[1]))" }.sorted()
        return "[" + pairs.joined(separator: ", ") + "]"
    default: return String(describing: value)
    }
}

extension Chapter {
    /// Prints every field of the run's configuration under a heading.
    public func printConfiguration(_ configuration: Any) {
        print("configuration (every knob of this run):")
        for line in configurationLines(configuration) { print("  " + line) }
        fflush(nil)
    }
}
