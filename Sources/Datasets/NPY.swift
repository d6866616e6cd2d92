// Reading and writing NumPy's .npy format, version 1.0
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//
//   bytes 0-5   magic "\x93NUMPY"
//   bytes 6-7   version: 1, 0
//   bytes 8-9   header length H, little-endian UInt16
//   next H      an ASCII Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//               padded with spaces and a final newline so that 10 + H is a multiple of 64
//   then        the elements, row-major (C order), in the dtype's byte order
//
// Supported dtypes: u1 (uint8), i2 (int16), i8 (int64), f4 (float32), little-endian or byte-order-free.
import Autograd
import Foundation

/// An array read from (or to be written to) a .npy file: its shape, element type and raw bytes.
public struct NPYArray: Equatable, Sendable {
    /// The element types read and written.
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "u1", int16 = "i2", int64 = "i8", float32 = "f4"

        /// Bytes per element.
        public var byteCount: Int {
            switch self { case .uint8: 1; case .int16: 2; case .int64: 8; case .float32: 4 }
        }
    }

    /// The array's shape.
    public let shape: [Int]
    /// The element type.
    public let dtype: DType
    /// The elements as stored: little-endian, row-major.
    public let bytes: Data

    /// The number of elements.
    public var count: Int { checkedProduct(shape) ?? 0 }

    /// An array from raw little-endian bytes.
    public init(shape: [Int], dtype: DType, bytes: Data) {
        require(checkedProduct(shape + [dtype.byteCount]) == bytes.count, "NPYArray: \(bytes.count) bytes do not hold \(shape) of \(dtype)")
        self.shape = shape
        self.dtype = dtype
        self.bytes = bytes
    }

    /// A float32 array.
    public init(shape: [Int], floats: [Float]) {
        self.init(shape: shape, dtype: .float32, bytes: floats.withUnsafeBytes { Data($0) })
    }

    /// A uint8 array.
    public init(shape: [Int], uint8 values: [UInt8]) {
        self.init(shape: shape, dtype: .uint8, bytes: Data(values))
    }

    /// An int16 array.
    public init(shape: [Int], int16 values: [Int16]) {
        self.init(shape: shape, dtype: .int16, bytes: values.map(\.littleEndian).withUnsafeBytes { Data($0) })
    }

    /// An int64 array.
    public init(shape: [Int], int64 values: [Int64]) {
        self.init(shape: shape, dtype: .int64, bytes: values.map(\.littleEndian).withUnsafeBytes { Data($0) })
    }

    /// The elements converted to Float (exact for u1 and i2; i8 rounds beyond 2^24).
    public func floats() -> [Float] {
        bytes.withUnsafeBytes { raw in
            switch dtype {
            case .float32: (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .uint8: raw.map { Float($0) }
            case .int16: (0..<count).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
            case .int64: (0..<count).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            }
        }
    }

    /// The elements as integers. For f4 it stops with a message: converting floats to labels silently is a bug.
    /// - Parameter path: names the file in that message.
    public func integers(path: String? = nil) throws(NPYError) -> [Int] {
        if dtype == .float32 { throw NPYError.wrongDType(path: path, expected: "an integer dtype (u1, i2, i8)", found: "f4") }
        return bytes.withUnsafeBytes { raw in
            switch dtype {
            case .uint8: raw.map { Int($0) }
            case .int16: (0..<count).map { Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
            case .int64, .float32: (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            }
        }
    }
}

/// Why a .npy file could not be read or written. Each message names the file and how to fix the problem.
public enum NPYError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case badMagic(path: String)
    case unsupportedVersion(path: String, major: UInt8, minor: UInt8)
    case malformedHeader(path: String, reason: String)
    case unsupportedDType(path: String, descr: String)
    case fortranOrder(path: String)
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    case wrongDType(path: String?, expected: String, found: String)
    case unexpectedContent(path: String, expected: String, found: String)
    case writeFailed(path: String, reason: String)

    /// What is wrong with which file, and how to fix it.
    public var description: String {
        switch self {
        case .missingFile(let path):
            "\(path): no such file. Check --data-dir (default: data, the folder at the top of the repository that holds the datasets)."
        case .badMagic(let path):
            "\(path): not a .npy file (it does not start with \\x93NUMPY). Was it saved with numpy.save?"
        case .unsupportedVersion(let path, let major, let minor):
            "\(path): .npy format version \(major).\(minor) is not supported (only 1.0); save it again with numpy.save and a small header."
        case .malformedHeader(let path, let reason):
            "\(path): malformed .npy header: \(reason)."
        case .unsupportedDType(let path, let descr):
            "\(path): dtype '\(descr)' is not supported; the readers take <u1, <i2, <i8 and <f4 (little-endian). Save the array with the dtype data/README.md lists for this file, e.g. array.astype('<i8') for labels and offsets, '<i2' for audio."
        case .fortranOrder(let path):
            "\(path): Fortran-order arrays are not supported; save np.ascontiguousarray(array) instead."
        case .truncated(let path, let expected, let found):
            "\(path): truncated: the header promises \(expected) bytes of data but the file has \(found). The file is damaged or was not fully written; copy it again."
        case .wrongDType(let path, let expected, let found):
            "\(path ?? "array"): expected \(expected), found dtype \(found)."
        case .unexpectedContent(let path, let expected, let found):
            "\(path): expected \(expected), found \(found)."
        case .writeFailed(let path, let reason):
            "\(path): could not write: \(reason)."
        }
    }
}

/// Reading and writing .npy files.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads a .npy file.
    public static func read(_ url: URL) throws(NPYError) -> NPYArray {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw .missingFile(path: url.path) }
        guard !isDirectory.boolValue else { throw .malformedHeader(path: url.path, reason: "this is a folder, not a .npy file") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .malformedHeader(path: url.path, reason: "cannot read the file (\(error.localizedDescription))") }
        return try decode(data, path: url.path)
    }

    /// Parses the bytes of a .npy file; `path` only names the file in errors.
    public static func decode(_ data: Data, path: String = "array") throws(NPYError) -> NPYArray {
        let bytes = [UInt8](data.prefix(10))
        guard bytes.count >= 6, Array(bytes[0..<6]) == magic else { throw .badMagic(path: path) }
        guard bytes.count == 10 else { throw .malformedHeader(path: path, reason: "the file ends inside the preamble") }
        guard bytes[6] == 1, bytes[7] == 0 else { throw .unsupportedVersion(path: path, major: bytes[6], minor: bytes[7]) }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard data.count >= 10 + headerLength else {
            throw .malformedHeader(path: path, reason: "the header is \(headerLength) bytes long but the file ends after \(data.count - 10)")
        }
        let start = data.startIndex
        guard let header = String(data: data[(start + 10)..<(start + 10 + headerLength)], encoding: .ascii) else {
            throw .malformedHeader(path: path, reason: "the header is not ASCII text")
        }
        let (descr, fortran, shape) = try parseHeader(header, path: path)
        if fortran { throw .fortranOrder(path: path) }
        let dtype: NPYArray.DType
        switch descr {
        case "|u1", "<u1": dtype = .uint8
        case "<i2": dtype = .int16
        case "<i8": dtype = .int64
        case "<f4": dtype = .float32
        default: throw .unsupportedDType(path: path, descr: descr)
        }
        // The byte count, checked for overflow: a crafted header can claim a shape of 2^62 x 2^62.
        guard let expected = checkedProduct(shape + [dtype.byteCount]), expected <= Int(Int32.max) * 16 else {
            throw .malformedHeader(path: path, reason: "the shape \(shape) is too large to be real")
        }
        let found = data.count - 10 - headerLength
        guard found >= expected else { throw .truncated(path: path, expectedBytes: expected, foundBytes: found) }
        let body = data[(start + 10 + headerLength)..<(start + 10 + headerLength + expected)]
        return NPYArray(shape: shape, dtype: dtype, bytes: Data(body))
    }

    /// Extracts descr, fortran_order and shape from the header's Python dict literal.
    static func parseHeader(_ header: String, path: String) throws(NPYError) -> (String, Bool, [Int]) {
        func value(of key: String) throws(NPYError) -> Substring {
            guard let keyRange = header.range(of: "'\(key)':") else {
                throw .malformedHeader(path: path, reason: "no '\(key)' entry in \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return header[keyRange.upperBound...].drop { $0 == " " }
        }
        let descrValue = try value(of: "descr")
        guard descrValue.first == "'", let close = descrValue.dropFirst().firstIndex(of: "'") else {
            throw .malformedHeader(path: path, reason: "'descr' is not a quoted string")
        }
        let descr = String(descrValue[descrValue.index(after: descrValue.startIndex)..<close])
        let fortran = try value(of: "fortran_order").hasPrefix("True")
        let shapeValue = try value(of: "shape")
        guard shapeValue.first == "(", let end = shapeValue.firstIndex(of: ")") else {
            throw .malformedHeader(path: path, reason: "'shape' is not a tuple")
        }
        var shape: [Int] = []
        for part in shapeValue[shapeValue.index(after: shapeValue.startIndex)..<end].split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let size = Int(trimmed), size >= 0 else {
                throw .malformedHeader(path: path, reason: "shape entry '\(trimmed)' is not a non-negative integer")
            }
            shape.append(size)
        }
        return (descr, fortran, shape)
    }

    /// The bytes of a .npy (version 1.0) file holding `array`.
    public static func encode(_ array: NPYArray) -> Data {
        let descr = array.dtype == .uint8 ? "|u1" : "<\(array.dtype.rawValue)"
        let shape = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(\(array.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(array.bytes)
        return data
    }

    /// Writes `array` to `url` through a temporary file in the same folder and a rename, so a reader
    /// never sees a half-written file.
    public static func write(_ array: NPYArray, to url: URL) throws(NPYError) {
        do { try AtomicFile.write(encode(array), to: url) } catch { throw .writeFailed(path: url.path, reason: error.reason) }
    }
}

/// The product of `factors`, or nil when it overflows Int (or a factor is negative).
func checkedProduct(_ factors: [Int]) -> Int? {
    var product = 1
    for factor in factors {
        guard factor >= 0 else { return nil }
        let (result, overflow) = product.multipliedReportingOverflow(by: factor)
        if overflow { return nil }
        product = result
    }
    return product
}
