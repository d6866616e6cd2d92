// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), so a model trained
// here opens in Python with `safetensors.numpy.load_file` or `safetensors.torch.load_file`:
//
//   8 bytes          N, the header length, little-endian UInt64
//   N bytes          a JSON object: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//                    "__metadata__": {"key": "value"}}, padded with spaces to a multiple of 8
//   the rest         the tensors' bytes, little-endian, row-major; offsets are relative to this section
import Autograd
import Foundation

/// Why a checkpoint cannot be read, written or loaded into a model.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case nonFinite(path: String, name: String)
    case truncated(path: String, reason: String)
    case badHeader(path: String, reason: String)
    case missingTensor(path: String, name: String)
    case shapeMismatch(path: String, name: String, expected: [Int], found: [Int])
    case unexpectedTensors(path: String, names: [String])

    /// What is wrong with which file, and what to do.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read the checkpoint: \(reason)"
        case .unwritable(let path, let reason): "\(path): cannot write the checkpoint: \(reason). Check the folder exists and can be written (--checkpoint)."
        case .nonFinite(let path, let name): "\(path): tensor '\(name)' holds NaN or infinite values; the run that saved it diverged. Train again."
        case .truncated(let path, let reason): "\(path): truncated checkpoint (\(reason)); it was not fully written or was cut. Train again or copy it again."
        case .badHeader(let path, let reason): "\(path): not a valid safetensors header: \(reason)"
        case .missingTensor(let path, let name): "\(path): has no tensor '\(name)' that the model needs. Was it saved from a different model or config?"
        case .shapeMismatch(let path, let name, let expected, let found): "\(path): tensor '\(name)' has shape \(found) but the model expects \(expected). It was saved from a model of other sizes; pretrain again or give another --checkpoint."
        case .unexpectedTensors(let path, let names): "\(path): tensors the model does not have: \(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : "")"
        }
    }
}

/// safetensors checkpoints: saving a module's parameters by name, and loading them back.
public enum Checkpoint {
    /// The bytes of a safetensors file holding `tensors` (in name order) and string `metadata`.
    public static func encode(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        let sorted = tensors.sorted { $0.name < $1.name }
        for (name, tensor) in sorted {
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + 4 * tensor.count]]
            offset += 4 * tensor.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in sorted {
            for value in tensor.storage.buffer { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// Writes a checkpoint atomically (`AtomicFile`): to a temporary file named after this process, then renamed
    /// into place, so a reader never sees a half-written file and two runs never rename each other's.
    public static func save(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws(CheckpointError) {
        let data: Data
        do { data = try encode(tensors, metadata: metadata) } catch { throw .unwritable(path: url.path, reason: "\(error)") }
        do { try AtomicFile.write(data, to: url) } catch { throw .unwritable(path: url.path, reason: error.reason) }
    }

    /// Saves every parameter of a module under its dotted name.
    public static func save(_ module: any Module, metadata: [String: String] = [:], to url: URL) throws(CheckpointError) {
        try save(module.namedParameters, metadata: metadata, to: url)
    }

    /// Reads every tensor of a checkpoint, and its metadata.
    public static func load(_ url: URL) throws(CheckpointError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw .unreadable(path: url.path, reason: "no such file") }
        guard !isDirectory.boolValue else { throw .unreadable(path: url.path, reason: "this is a folder, not a file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .unreadable(path: url.path, reason: error.localizedDescription) }
        return try decode(data, path: url.path)
    }

    /// Parses the bytes of a safetensors file; `path` only names it in errors.
    public static func decode(_ data: Data, path: String = "checkpoint") throws(CheckpointError) -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard data.count >= 8 else { throw .truncated(path: path, reason: "\(data.count) bytes, shorter than the 8-byte header length") }
        let bytes = [UInt8](data)
        // As UInt64 first: a length with the top bit set would be a negative Int.
        let claimed = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard claimed <= UInt64(data.count - 8) else {
            throw .truncated(path: path, reason: "the header claims \(claimed) bytes but only \(data.count - 8) follow")
        }
        let headerLength = Int(claimed)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])),
              let header = object as? [String: Any] else {
            throw .badHeader(path: path, reason: "the header is not a JSON object")
        }
        let body = 8 + headerLength, bodyLength = data.count - body
        var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else { throw .badHeader(path: path, reason: "__metadata__ is not a map of strings") }
                metadata = strings
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw .badHeader(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else { throw .badHeader(path: path, reason: "tensor '\(name)' has dtype \(dtype); only F32 is supported") }
            var elements = 1
            for size in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard size >= 0, !overflow, product <= bodyLength else {
                    throw .badHeader(path: path, reason: "tensor '\(name)': shape \(shape) does not fit in the file")
                }
                elements = product
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end - begin == 4 * elements else {
                throw .badHeader(path: path, reason: "tensor '\(name)': offsets \(offsets) do not hold shape \(shape) of F32")
            }
            guard end <= bodyLength else {
                throw .truncated(path: path, reason: "tensor '\(name)' ends at byte \(body + end) of \(data.count)")
            }
            entries.append((name, shape, begin, end))
        }
        // safetensors lays the tensors end to end: no overlaps, no gaps.
        var position = 0
        for entry in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard entry.begin == position else {
                throw .badHeader(path: path, reason: "tensor '\(entry.name)' starts at \(entry.begin), not at \(position): data_offsets overlap or leave a gap")
            }
            position = entry.end
        }
        var tensors: [String: Tensor] = [:]
        for (name, shape, begin, end) in entries {
            let storage = TensorStorage(uninitializedCount: (end - begin) / 4)
            for i in 0..<storage.count {
                let at = body + begin + 4 * i
                storage.pointer[i] = Float(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
            }
            tensors[name] = Tensor(shape: shape, storage: storage)
        }
        return (tensors, metadata)
    }

    /// Loads a checkpoint into a module's parameters (in place). Every parameter must be present with its
    /// shape; with `strict`, the file may not hold other tensors either.
    public static func load(_ url: URL, into module: any Module, strict: Bool = true) throws(CheckpointError) {
        let (tensors, _) = try load(url)
        let named = module.namedParameters
        for (name, parameter) in named {
            guard let stored = tensors[name] else { throw .missingTensor(path: url.path, name: name) }
            guard stored.shape == parameter.shape else {
                throw .shapeMismatch(path: url.path, name: name, expected: parameter.shape, found: stored.shape)
            }
        }
        let extra = Set(tensors.keys).subtracting(named.map(\.name)).sorted()
        if strict && !extra.isEmpty { throw .unexpectedTensors(path: url.path, names: extra) }
        for (name, _) in named where !tensors[name]!.scalars.allSatisfy({ $0.isFinite }) { throw .nonFinite(path: url.path, name: name) }
        for (name, parameter) in named { parameter.storage.pointer.update(from: tensors[name]!.storage.pointer, count: parameter.count) }
    }
}
