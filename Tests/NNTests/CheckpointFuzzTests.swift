// Fuzzing the safetensors reader: damaged and crafted files end in an error or valid tensors, never a crash.
import Autograd
import Foundation
@testable import NN
import Testing

@Suite("Fuzzed checkpoints")
struct CheckpointFuzzTests {
    func valid() throws -> Data {
        var rng = RandomGenerator(seed: 9)
        return try Checkpoint.encode([("a.weight", Tensor.normal([3, 4], using: &rng)), ("a.bias", Tensor.normal([4], using: &rng)),
                                      ("b", Tensor.normal([2, 2, 2], using: &rng))], metadata: ["steps": "5"])
    }

    /// A file with the given JSON header and `bodyBytes` zero bytes of data.
    func crafted(_ header: String, bodyBytes: Int, claimedLength: UInt64? = nil) -> Data {
        var data = Data()
        let json = Data(header.utf8)
        withUnsafeBytes(of: (claimedLength ?? UInt64(json.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: bodyBytes))
        return data
    }

    @Test func craftedHeadersAreRejected() {
        let cases: [Data] = [
            crafted("{}", bodyBytes: 0, claimedLength: UInt64(1) << 63),                                          // top bit set
            crafted("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[9223372036854775800,9223372036854775807]}}", bodyBytes: 8),
            crafted("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", bodyBytes: 8),
            crafted("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", bodyBytes: 8),  // product overflows
            crafted("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", bodyBytes: 8),
            crafted("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", bodyBytes: 12),  // overlap
            crafted("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", bodyBytes: 8),  // a gap
            crafted("{\"__metadata__\":{\"a\":1}}", bodyBytes: 0),
        ]
        for data in cases { #expect(throws: CheckpointError.self) { try Checkpoint.decode(data) } }
    }

    @Test func nonFiniteWeightsAreRefusedWhenLoaded() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nan-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(2, 2, using: &rng)
        layer.weight.storage.pointer[1] = .nan
        try Checkpoint.save(layer, to: url)
        #expect(throws: CheckpointError.nonFinite(path: url.path, name: "weight")) { try Checkpoint.load(url, into: Linear(2, 2, using: &rng)) }
    }

    @Test func damagedFilesEndInAnErrorOrValidTensors() throws {
        let original = try valid()
        var rng = RandomGenerator(seed: 4)
        var (errors, values) = (0, 0)
        for _ in 0..<3000 {
            var bytes = [UInt8](original)
            switch rng.int(below: 4) {
            case 0: for _ in 0..<(1 + rng.int(below: 4)) { bytes[rng.int(below: bytes.count)] ^= UInt8(1 + rng.int(below: 255)) }
            case 1: bytes = Array(bytes.prefix(rng.int(below: bytes.count)))
            case 2: for i in 0..<8 where rng.uniform() < 0.3 { bytes[i] = UInt8(rng.int(below: 256)) }  // the header length
            default: bytes[8 + rng.int(below: min(200, bytes.count - 8))] = UInt8(rng.int(below: 128))  // the JSON
            }
            do {
                let (tensors, _) = try Checkpoint.decode(Data(bytes))
                #expect(tensors.values.allSatisfy { $0.count == $0.shape.reduce(1, *) })
                values += 1
            } catch { errors += 1 }
        }
        #expect(errors + values == 3000 && errors > 1000)
    }
}
