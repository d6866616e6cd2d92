// A Hugging Face model directory as `save_pretrained` writes it and `from_pretrained` reads it: `config.json`
// (the model's configuration: its class in "architectures", its "model_type", and the sizes) beside
// `model.safetensors` (every tensor, float32, metadata {"format": "pt"}). `transformers` writes into config.json
// only what differs from the class's defaults, so a reader must know the defaults: `HuggingFaceConfig` takes
// them at each read.
import Autograd
import Foundation
import NN

/// A Float as the Double its shortest decimal spells (1e-06, not 9.999999974752427e-07), for config.json.
func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }

/// A config.json, read or about to be written.
public struct HuggingFaceConfig: @unchecked Sendable {
    /// The JSON object, as JSONSerialization reads it.
    public var values: [String: Any]

    /// A configuration from its entries.
    public init(_ values: [String: Any]) { self.values = values }

    /// An integer entry, or `defaultValue` (the class's default) when absent.
    public func int(_ key: String, default defaultValue: Int) throws(InteropError) -> Int {
        guard let value = values[key] else { return defaultValue }
        guard let number = value as? NSNumber, Double(number.intValue) == number.doubleValue else {
            throw InteropError("config.json: \(key) must be an integer, got \(value)")
        }
        return number.intValue
    }

    /// A number entry, or `defaultValue` when absent.
    public func double(_ key: String, default defaultValue: Double) throws(InteropError) -> Double {
        guard let value = values[key] else { return defaultValue }
        guard let number = value as? NSNumber else { throw InteropError("config.json: \(key) must be a number, got \(value)") }
        return number.doubleValue
    }

    /// A string entry, or `defaultValue` when absent.
    public func string(_ key: String, default defaultValue: String) throws(InteropError) -> String {
        guard let value = values[key] else { return defaultValue }
        guard let text = value as? String else { throw InteropError("config.json: \(key) must be a string, got \(value)") }
        return text
    }

    /// A Bool entry, or `defaultValue` when absent.
    public func bool(_ key: String, default defaultValue: Bool) throws(InteropError) -> Bool {
        guard let value = values[key] else { return defaultValue }
        guard let flag = value as? Bool else { throw InteropError("config.json: \(key) must be true or false, got \(value)") }
        return flag
    }

    /// A list of integers, or `defaultValue` when absent.
    public func ints(_ key: String, default defaultValue: [Int]) throws(InteropError) -> [Int] {
        guard let value = values[key] else { return defaultValue }
        guard let list = value as? [NSNumber] else { throw InteropError("config.json: \(key) must be a list of integers, got \(value)") }
        return list.map(\.intValue)
    }

    /// Refuses a configuration whose entry `key` is not `expected` (a setting the Swift model does not have).
    public func require<T: Equatable>(_ key: String, _ value: T, equals expected: T, because reason: String) throws(InteropError) {
        guard value == expected else { throw InteropError("config.json: \(key) is \(value); the Swift model can only represent \(expected) (\(reason))") }
    }
}

/// Reading and writing a Hugging Face model directory.
public enum HuggingFaceDirectory {
    /// Writes `config.json` and `model.safetensors` (and `extraFiles`, name -> contents) into `directory`,
    /// creating it; each file whole or not at all.
    public static func write(_ directory: URL, config: HuggingFaceConfig, tensors: [(name: String, tensor: Tensor)],
                             extraFiles: [String: Data] = [:]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data((try json(config.values) + "\n").utf8).write(to: directory.appendingPathComponent("config.json"), options: .atomic)
        try Checkpoint.save(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        for (name, contents) in extraFiles { try contents.write(to: directory.appendingPathComponent(name), options: .atomic) }
    }

    /// A JSON object with sorted keys, one entry per line. Unlike JSONSerialization, a Double is always written with
    /// a decimal point (0.0, not 0): transformers' configuration classes check types, and `layer_scale_init_value: 0`
    /// is refused as "expected float, got int".
    static func json(_ value: Any, indent: String = "") throws(InteropError) -> String {
        switch value {
        case let text as String:
            let escaped = text.unicodeScalars.map { c -> String in
                switch c {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                case "\n": return "\\n"
                default: return c.value < 0x20 ? String(format: "\\u%04x", c.value) : String(c)
                }
            }.joined()
            return "\"" + escaped + "\""
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return String(number)
        case let number as Double:
            guard number.isFinite else { throw InteropError("config.json cannot hold \(number)") }
            return number == number.rounded() && abs(number) < 1e15 ? String(format: "%.1f", number) : "\(number)"
        case let list as [Any]: return "[" + (try list.map { item throws(InteropError) in try json(item) }).joined(separator: ", ") + "]"
        case let object as [String: Any]:
            let inner = indent + "  "
            let entries = try object.keys.sorted().map { key throws(InteropError) in inner + (try json(key)) + ": " + (try json(object[key]!, indent: inner)) }
            return "{\n" + entries.joined(separator: ",\n") + "\n" + indent + "}"
        default: throw InteropError("config.json cannot hold \(value) of type \(type(of: value))")
        }
    }

    /// Reads `config.json` and `model.safetensors` from `directory`, with clear errors for a missing or
    /// malformed file.
    public static func read(_ directory: URL) throws -> (config: HuggingFaceConfig, tensors: [String: Tensor]) {
        let configURL = directory.appendingPathComponent("config.json"), weightsURL = directory.appendingPathComponent("model.safetensors")
        for url in [configURL, weightsURL] where !FileManager.default.fileExists(atPath: url.path) {
            throw InteropError("\(url.path): no such file. A Hugging Face model directory holds config.json and model.safetensors "
                               + "(save_pretrained(..., safe_serialization=True) writes both)")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: try Data(contentsOf: configURL)) } catch {
            throw InteropError("\(configURL.path) is not valid JSON: \(error.localizedDescription)")
        }
        guard let values = object as? [String: Any] else { throw InteropError("\(configURL.path) must hold a JSON object") }
        return (HuggingFaceConfig(values), try Checkpoint.load(weightsURL).tensors)
    }
}
