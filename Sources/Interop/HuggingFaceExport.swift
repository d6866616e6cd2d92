// Writing a chapter's model as a Hugging Face model directory, with what it takes to check it: besides config.json
// and model.safetensors, `swift_outputs.safetensors` holds the inputs the Swift model was fed and every block's
// output (`block.0`, `block.1`, ...), computed in evaluation mode. `python3 scripts/hf/check.py DIR` feeds the same
// inputs to transformers and compares block by block.
import Autograd
import Data2Vec
import Datasets
import Foundation
import NN

extension HuggingFaceDirectory {
    /// The file of the Swift run's inputs and block outputs.
    public static let swiftOutputsFile = "swift_outputs.safetensors"

    /// Writes `inputs` and the blocks' outputs ([B, T, D] each, as `block.i`) into `directory`.
    static func writeSwiftOutputs(_ directory: URL, inputs: [(name: String, tensor: Tensor)], blocks: [BlockOutputs],
                                  metadata: [String: String] = [:]) throws {
        let outputs = blocks.enumerated().map { (name: "block.\($0.offset)", tensor: $0.element.output) }
        try Checkpoint.save(inputs + outputs, metadata: metadata.merging(["format": "pt"]) { $1 }, to: directory.appendingPathComponent(swiftOutputsFile))
    }
}

extension Backbone where FrontEnd == TextFrontEnd {
    /// Writes this model as Data2VecTextModel into `directory` (created if needed): config.json, model.safetensors,
    /// the tokenizer's vocab.json and merges.txt (GPT-2's format, as RoBERTa's), and the Swift outputs for
    /// `sentences` (token ids; padded with token 1, and `attention_mask` and `valid_positions` say where). Given the
    /// sentences' `texts`, they go into the outputs' metadata ("sentence.0", ...), so that the check can tokenize them
    /// with transformers' RobertaTokenizer from vocab.json and merges.txt and compare the ids.
    public func exportHuggingFace(to directory: URL, tokenizer: BytePairEncoding, sentences: [[Int]], texts: [String] = []) throws {
        let (config, tensors) = try huggingFaceExport()
        try HuggingFaceDirectory.write(directory, config: config, tensors: tensors)
        try tokenizer.save(to: directory)
        let batch = TextBatch(sentences)
        eval()
        let (encoded, _) = Tensor.withoutGradients { encode(batch, recordBlocks: true) }
        let t = batch.tokens.first?.count ?? 0
        let mask = Tensor(shape: [sentences.count, t], batch.lengths.flatMap { n in (0..<t).map { $0 < n ? Float(1) : 0 } })
        let ids = Tensor(shape: [sentences.count, t], batch.tokens.flatMap { $0.map(Float.init) })
        let metadata = Dictionary(uniqueKeysWithValues: texts.enumerated().map { ("sentence.\($0.offset)", $0.element) })
        try HuggingFaceDirectory.writeSwiftOutputs(directory, inputs: [("input_ids", ids), ("attention_mask", mask), ("valid_positions", mask)],
                                                   blocks: encoded.blocks, metadata: metadata)
    }
}

extension Backbone where FrontEnd == SpeechFrontEnd {
    /// Writes this model as Data2VecAudioModel into `directory` (created if needed): config.json, model.safetensors
    /// and the Swift outputs for `clips` (normalized waveforms, cut to the shortest one's length so that no clip is
    /// padded: transformers and the Swift model treat padding differently inside the positional convolutions).
    public func exportHuggingFace(to directory: URL, clips: [[Float]]) throws {
        let (config, tensors) = try huggingFaceExport()
        let length = clips.map(\.count).min() ?? 0
        guard length >= frontEnd.featureEncoder.receptiveField else {
            throw InteropError("the clips to check with are shorter (\(length) samples) than one frame (\(frontEnd.featureEncoder.receptiveField))")
        }
        try HuggingFaceDirectory.write(directory, config: config, tensors: tensors)
        let cut = clips.map { Array($0.prefix(length)) }
        eval()
        let (encoded, _) = Tensor.withoutGradients { encode(AudioBatch(cut), frozenCNN: false, recordBlocks: true) }
        try HuggingFaceDirectory.writeSwiftOutputs(directory, inputs: [("input_values", Tensor(shape: [cut.count, length], cut.flatMap { $0 }))],
                                                   blocks: encoded.blocks)
    }
}

extension Backbone where FrontEnd == ImagePatchFrontEnd {
    /// Writes this model as Data2VecVisionModel into `directory` (created if needed): config.json, model.safetensors
    /// and the Swift outputs for `images` [B, H, W] (as `pixel_values` [B, 1, H, W]; the CLS token's output first).
    public func exportHuggingFace(to directory: URL, images: Tensor) throws {
        let (config, tensors) = try huggingFaceExport()
        try HuggingFaceDirectory.write(directory, config: config, tensors: tensors)
        eval()
        let (encoded, _) = Tensor.withoutGradients { encode(images, recordBlocks: true) }
        let pixels = Tensor(shape: [images.shape[0], 1, images.shape[1], images.shape[2]], images.scalars)
        try HuggingFaceDirectory.writeSwiftOutputs(directory, inputs: [("pixel_values", pixels)], blocks: encoded.blocks)
    }
}
