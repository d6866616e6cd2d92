// safetensors checkpoints: round trips, the exact byte layout, and clear errors.
import Autograd
import Foundation
@testable import NN
import Testing

@Suite("Checkpoints")
struct CheckpointTests {
    func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)/model.safetensors")
    }

    func model(seed: UInt64) -> TransformerEncoder {
        var rng = RandomGenerator(seed: seed)
        return TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .preLN), using: &rng)
    }

    @Test func roundTripRestoresEveryParameter() throws {
        let url = temporaryURL()
        let original = model(seed: 1), restored = model(seed: 2)
        #expect(original.parameters[0].scalars != restored.parameters[0].scalars)
        try Checkpoint.save(original, metadata: ["step": "100"], to: url)
        try Checkpoint.load(url, into: restored)
        for (a, b) in zip(original.namedParameters, restored.namedParameters) { #expect(a.tensor.scalars == b.tensor.scalars, "\(a.name)") }
        #expect(try Checkpoint.load(url).metadata == ["step": "100"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["model.safetensors"])
    }

    @Test func byteLayoutIsSafetensors() throws {
        // Header length (8 bytes, little-endian), JSON padded to a multiple of 8, then float32 data.
        let data = try Checkpoint.encode([("w", Tensor([1, 2]))])
        let length = Int(data[0]) | Int(data[1]) << 8
        #expect(length % 8 == 0 && data.count == 8 + length + 8)
        let json = String(decoding: data[8..<(8 + length)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        #expect(json == #"{"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#)
        #expect(Array(data.suffix(8)) == [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])  // 1.0 and 2.0, little-endian
    }

    @Test func damagedFilesGiveClearErrors() throws {
        let data = try Checkpoint.encode(model(seed: 1).namedParameters)
        #expect(throws: CheckpointError.self) { try Checkpoint.decode(data.prefix(5)) }
        #expect(throws: CheckpointError.self) { try Checkpoint.decode(data.prefix(data.count - 10)) }
        var badJSON = data
        badJSON[9] = 0x21  // "!" inside the JSON
        #expect(throws: CheckpointError.self) { try Checkpoint.decode(badJSON) }
        #expect(throws: CheckpointError.unreadable(path: "/nonexistent.safetensors", reason: "no such file")) {
            try Checkpoint.load(URL(fileURLWithPath: "/nonexistent.safetensors"))
        }
    }

    @Test func missingOrMisshapedTensorsAreNamed() throws {
        let url = temporaryURL()
        var rng = RandomGenerator(seed: 0)
        let small = TransformerEncoder(TransformerConfiguration(blockCount: 1, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .preLN), using: &rng)
        try Checkpoint.save(small, to: url)
        #expect(throws: CheckpointError.missingTensor(path: url.path, name: "blocks.1.attention.qkv.weight")) {
            try Checkpoint.load(url, into: model(seed: 3))
        }
        let wide = TransformerEncoder(TransformerConfiguration(blockCount: 1, dimension: 8, headCount: 2, feedForwardDimension: 32, placement: .preLN), using: &rng)
        #expect(throws: CheckpointError.shapeMismatch(path: url.path, name: "blocks.0.fc1.weight", expected: [32, 8], found: [16, 8])) {
            try Checkpoint.load(url, into: wide)
        }
    }
}
