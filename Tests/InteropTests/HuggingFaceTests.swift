// The Swift backbones and Hugging Face's Data2Vec models are the same models: small models made in Python with
// random weights (scripts/hf/make_fixtures.py; Fixtures/*/config.json, model.safetensors) import into Swift and
// give transformers' block outputs (Fixtures/*/reference.safetensors) to 1e-4, and the exporter writes exactly
// the tensors, names and shapes transformers saved. No Python runs here.
import Autograd
import Data2Vec
import Datasets
import Foundation
@testable import Interop
import NN
import Testing

@Suite("Hugging Face interop")
struct HuggingFaceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) throws -> (config: HuggingFaceConfig, tensors: [String: Tensor], reference: [String: Tensor]) {
        let folder = fixtures.appendingPathComponent(name)
        let (config, tensors) = try HuggingFaceDirectory.read(folder)
        return (config, tensors, try Checkpoint.load(folder.appendingPathComponent("reference.safetensors")).tensors)
    }

    /// The largest difference between every block's output and transformers', at the valid positions, and how
    /// many values were compared.
    static func largestDifference(_ blocks: [BlockOutputs], _ reference: [String: Tensor], validLengths: [Int]) -> (Float, Int) {
        var worst: Float = 0, compared = 0
        for (i, block) in blocks.enumerated() {
            let theirs = reference["block.\(i)"]!
            #expect(theirs.shape == block.output.shape, "block \(i): \(block.output.shape) vs \(theirs.shape)")
            for b in 0..<theirs.shape[0] {
                for t in 0..<validLengths[b] {
                    for c in 0..<theirs.shape[2] { worst = max(worst, abs(block.output[b, t, c] - theirs[b, t, c])) }
                    compared += theirs.shape[2]
                }
            }
        }
        return (worst, compared)
    }

    @Test func textModelImportsAndMatchesTransformers() throws {
        let (config, tensors, reference) = try HuggingFaceTests.fixture("text")
        let model = try TextBackbone.huggingFaceImport(config: config, tensors: tensors)
        let ids = reference["input_ids"]!, mask = reference["attention_mask"]!
        let rows = (0..<ids.shape[0]).map { b in (0..<ids.shape[1]).filter { mask[b, $0] > 0.5 }.map { Int(ids[b, $0].rounded()) } }
        let batch = TextBatch(rows)
        let (encoded, _) = Tensor.withoutGradients { model.encode(batch, recordBlocks: true) }
        #expect(encoded.blocks.count == 2)
        let (worst, compared) = HuggingFaceTests.largestDifference(encoded.blocks, reference, validLengths: batch.lengths)
        #expect(worst < 1e-4 && compared == 2 * (7 + 4) * 16, "largest difference \(worst) over \(compared) values")
    }

    @Test func audioModelImportsAndMatchesTransformers() throws {
        let (config, tensors, reference) = try HuggingFaceTests.fixture("audio")
        let model = try SpeechBackbone.huggingFaceImport(config: config, tensors: tensors)
        let values = reference["input_values"]!
        let (encoded, lengths) = Tensor.withoutGradients { model.encode(AudioBatch([values.scalars]), frozenCNN: false, recordBlocks: true) }
        let (worst, compared) = HuggingFaceTests.largestDifference(encoded.blocks, reference, validLengths: lengths)
        // 400 samples: (400 - 10) / 5 + 1 = 79 frames after the first convolution, (79 - 3) / 2 + 1 = 39 after the second.
        #expect(lengths == [39] && worst < 1e-4 && compared == 2 * 39 * 16, "largest difference \(worst) over \(compared) values")
    }

    @Test func visionModelImportsAndMatchesTransformers() throws {
        let (config, tensors, reference) = try HuggingFaceTests.fixture("vision")
        let model = try VisionBackbone.huggingFaceImport(config: config, tensors: tensors)
        let pixels = reference["pixel_values"]!
        let images = pixels.reshaped([pixels.shape[0], 28, 28])
        let (encoded, _) = Tensor.withoutGradients { model.encode(images, recordBlocks: true) }
        let (worst, compared) = HuggingFaceTests.largestDifference(encoded.blocks, reference, validLengths: [50, 50])
        // The CLS token and 49 patches, 2 images, 2 blocks, 16 channels.
        #expect(worst < 1e-4 && compared == 2 * 2 * 50 * 16, "largest difference \(worst) over \(compared) values")
    }

    /// Export after import writes transformers' own tensors back: the same names, shapes and values (the text
    /// model's token-type row, folded into the token embeddings on import, comes back as zeros beside them).
    @Test(arguments: ["text", "audio", "vision"]) func exportWritesTransformersLayout(_ name: String) throws {
        let (config, tensors, _) = try HuggingFaceTests.fixture(name)
        let exported = switch name {
        case "text": try TextBackbone.huggingFaceImport(config: config, tensors: tensors).huggingFaceExport()
        case "audio": try SpeechBackbone.huggingFaceImport(config: config, tensors: tensors).huggingFaceExport()
        default: try VisionBackbone.huggingFaceImport(config: config, tensors: tensors).huggingFaceExport()
        }
        let ours = Dictionary(uniqueKeysWithValues: exported.tensors.map { ($0.name, $0.tensor) })
        #expect(Set(ours.keys) == Set(tensors.keys))
        for (key, theirs) in tensors {
            guard let mine = ours[key] else { continue }
            #expect(mine.shape == theirs.shape, "\(key): \(mine.shape) vs \(theirs.shape)")
            var expected = theirs
            if key == "embeddings.word_embeddings.weight" { expected = theirs + tensors["embeddings.token_type_embeddings.weight"]! }
            if key == "embeddings.token_type_embeddings.weight" { expected = Tensor.zeros(theirs.shape) }
            let difference = zip(mine.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(difference < 1e-6, "\(key) differs by \(difference)")
        }
        for key in ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "model_type"] {
            #expect("\(exported.config.values[key]!)" == "\(config.values[key]!)", "\(key)")
        }
    }
}

extension HuggingFaceTests {
    /// Each bad input is refused with a message naming what is wrong.
    @Test func badInputsAreRefusedClearly() throws {
        let (config, tensors, _) = try HuggingFaceTests.fixture("text")
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        var missing = tensors
        missing["encoder.layer.1.attention.self.key.weight"] = nil
        #expect(message { _ = try TextBackbone.huggingFaceImport(config: config, tensors: missing) }.contains("no tensor encoder.layer.1.attention.self.key.weight"))
        var wider = config
        wider.values["hidden_size"] = 32
        wider.values["intermediate_size"] = 64
        #expect(message { _ = try TextBackbone.huggingFaceImport(config: wider, tensors: tensors) }.contains("config.json and model.safetensors disagree"))
        var narrow = tensors
        narrow["encoder.layer.0.intermediate.dense.weight"] = Tensor.zeros([31, 16])
        #expect(message { _ = try TextBackbone.huggingFaceImport(config: config, tensors: narrow) }
            .contains("encoder.layer.0.intermediate.dense.weight has shape [31, 16], the Swift model needs [32, 16]"))
        var bert = config
        bert.values["layer_norm_eps"] = 1e-12
        #expect(message { _ = try TextBackbone.huggingFaceImport(config: bert, tensors: tensors) }.contains("layer_norm_eps is 1e-12"))
        #expect(message { _ = try SpeechBackbone.huggingFaceImport(config: config, tensors: tensors) }.contains("model_type 'data2vec-text'"))
        var nan = tensors
        nan["encoder.layer.0.output.dense.bias"] = Tensor(shape: [16], [Float](repeating: .nan, count: 16))
        #expect(message { _ = try TextBackbone.huggingFaceImport(config: config, tensors: nan) }.contains("non-finite"))

        let (audioConfig, audioTensors, _) = try HuggingFaceTests.fixture("audio")
        var even = audioConfig
        even.values["conv_pos_kernel_size"] = 4
        #expect(message { _ = try SpeechBackbone.huggingFaceImport(config: even, tensors: audioTensors) }.contains("conv_pos_kernel_size 4 is even"))
        var rng = RandomGenerator(seed: 1)
        var logmel = SpeechFrontEndConfiguration(dimension: 8)
        logmel.features = .logmel
        logmel.positionGroups = 2
        let backbone = SpeechBackbone(frontEnd: logmel, encoder: TransformerConfiguration(blockCount: 1, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                                          placement: .postLN, inputLayerNorm: true), using: &rng)
        #expect(message { _ = try backbone.huggingFaceExport() }.contains("log-mel front end has no Hugging Face counterpart"))

        let (visionConfig, visionTensors, _) = try HuggingFaceTests.fixture("vision")
        var learned = visionTensors
        learned["embeddings.position_embeddings"] = visionTensors["embeddings.position_embeddings"]! * 1.5
        #expect(message { _ = try VisionBackbone.huggingFaceImport(config: visionConfig, tensors: learned) }.contains("fixed 2-D sine-cosine positions"))
        var relative = visionConfig
        relative.values["use_relative_position_bias"] = true
        #expect(message { _ = try VisionBackbone.huggingFaceImport(config: relative, tensors: visionTensors) }.contains("no relative position bias"))
        var noCLS = ImagePatchConfiguration(dimension: 16)
        noCLS.classToken = false
        let plain = VisionBackbone(frontEnd: noCLS, encoder: TransformerConfiguration(blockCount: 1, dimension: 16, headCount: 2, feedForwardDimension: 32,
                                                                                     placement: .preLN), using: &rng)
        #expect(message { _ = try plain.huggingFaceExport() }.contains("--class-token"))
    }

    /// A directory without its files, or with a config.json that is not JSON, is refused before anything loads.
    @Test func malformedDirectoriesAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hf-interop-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(throws: InteropError.self) { _ = try HuggingFaceDirectory.read(folder) }
        try FileManager.default.copyItem(at: HuggingFaceTests.fixtures.appendingPathComponent("text/model.safetensors"), to: folder.appendingPathComponent("model.safetensors"))
        for broken in ["{\"hidden_size\": ", "[1, 2]", ""] {
            try Data(broken.utf8).write(to: folder.appendingPathComponent("config.json"))
            #expect(throws: InteropError.self) { _ = try HuggingFaceDirectory.read(folder) }
        }
        try Data("{\"model_type\": \"data2vec-text\", \"hidden_size\": \"sixteen\"}".utf8).write(to: folder.appendingPathComponent("config.json"))
        let (config, tensors) = try HuggingFaceDirectory.read(folder)
        #expect(throws: InteropError.self) { _ = try TextBackbone.huggingFaceImport(config: config, tensors: tensors) }
    }
}

extension HuggingFaceTests {
    /// A model made in Swift (every parameter random, the vision key bias too) goes out and comes back with the
    /// same block outputs: the round trip loses nothing, and dropping the key bias changes no output.
    @Test func swiftModelsSurviveTheRoundTrip() throws {
        var rng = RandomGenerator(seed: 9)
        func randomize(_ module: any Module) {
            for (_, p) in module.namedParameters { for i in 0..<p.count { p.storage.pointer[i] += 0.3 * Float(rng.normal()) } }
            module.eval()
        }
        func worst(_ a: [BlockOutputs], _ b: [BlockOutputs]) -> Float {
            zip(a, b).map { zip($0.output.scalars, $1.output.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
        }
        var vision = ImagePatchConfiguration(dimension: 16)
        vision.classToken = true
        let image = VisionBackbone(frontEnd: vision, encoder: TransformerConfiguration(blockCount: 2, dimension: 16, headCount: 2, feedForwardDimension: 32,
                                                                                      placement: .preLN, layerScale: 0.1, layerNormEpsilon: 1e-6), using: &rng)
        randomize(image)
        // The positions are fixed, not parameters: they survive because the table is written from them.
        let exportedImage = try image.huggingFaceExport()
        let imageBack = try VisionBackbone.huggingFaceImport(config: reparsed(exportedImage.config), tensors: Dictionary(uniqueKeysWithValues: exportedImage.tensors.map { ($0.name, $0.tensor) }))
        let images = Tensor(shape: [2, 28, 28], (0..<(2 * 784)).map { _ in Float(rng.normal()) })
        let key = image.encoder.blocks[0].attention.qkv.bias!.scalars[16..<32]
        #expect(key.contains { $0 != 0 } && imageBack.encoder.blocks[0].attention.qkv.bias!.scalars[16..<32].allSatisfy { $0 == 0 })
        #expect(worst(Tensor.withoutGradients { image.encode(images, recordBlocks: true).output.blocks },
                      Tensor.withoutGradients { imageBack.encode(images, recordBlocks: true).output.blocks }) < 1e-4)

        let text = TextBackbone(frontEnd: TextFrontEndConfiguration(vocabularySize: 30, dimension: 16),
                                encoder: TransformerConfiguration(blockCount: 2, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .postLN), using: &rng)
        randomize(text)
        let exportedText = try text.huggingFaceExport()
        let textBack = try TextBackbone.huggingFaceImport(config: reparsed(exportedText.config), tensors: Dictionary(uniqueKeysWithValues: exportedText.tensors.map { ($0.name, $0.tensor) }))
        let batch = TextBatch([[0, 7, 9, 22, 2], [0, 5, 2]])
        #expect(worst(Tensor.withoutGradients { text.encode(batch, recordBlocks: true).output.blocks },
                      Tensor.withoutGradients { textBack.encode(batch, recordBlocks: true).output.blocks }) < 1e-5)
    }

    /// The config as transformers would read it: written to JSON by the exporter and parsed again.
    func reparsed(_ config: HuggingFaceConfig) throws -> HuggingFaceConfig {
        let data = Data(try HuggingFaceDirectory.json(config.values).utf8)
        return HuggingFaceConfig(try JSONSerialization.jsonObject(with: data) as! [String: Any])
    }
}
