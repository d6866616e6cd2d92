// The Swift text backbone as Hugging Face's `Data2VecTextModel` (transformers
// models/data2vec/modeling_data2vec_text.py: RoBERTa's layout, which fairseq's data2vec text checkpoints convert
// to) and back.
//
//   Swift (Sources/Data2Vec/Text/TextFrontEnd.swift, NN/TransformerBlock.swift)   Hugging Face
//   frontEnd.tokens.weight                       embeddings.word_embeddings.weight
//   frontEnd.positions.weight                    embeddings.position_embeddings.weight
//   (none: every token is of type 0)             embeddings.token_type_embeddings.weight = zeros [1, D]
//   frontEnd.embeddingNorm                       embeddings.LayerNorm
//   encoder.blocks.i.attention.qkv (rows q|k|v)  encoder.layer.i.attention.self.{query, key, value}
//   encoder.blocks.i.attention.output            encoder.layer.i.attention.output.dense
//   encoder.blocks.i.attentionNorm               encoder.layer.i.attention.output.LayerNorm
//   encoder.blocks.i.fc1, fc2                    encoder.layer.i.intermediate.dense, output.dense
//   encoder.blocks.i.feedForwardNorm             encoder.layer.i.output.LayerNorm
//
// Both number positions as fairseq does: padding (token 1) is position 1 and the other tokens count from 2
// (`make_positions`, transformers' `create_position_ids_from_input_ids`), so the position table has
// `maxPositions + 2` rows (RoBERTa's 514 for 512 tokens).
import Autograd
import Data2Vec
import Datasets
import Foundation
import NN

extension Backbone where FrontEnd == TextFrontEnd {
    /// Inside each of Data2VecTextModel's blocks (BERT's names).
    static let blockNames = BlockNames(query: "attention.self.query", key: "attention.self.key", value: "attention.self.value",
                                       output: "attention.output.dense", attentionNorm: "attention.output.LayerNorm",
                                       fc1: "intermediate.dense", fc2: "output.dense", feedForwardNorm: "output.LayerNorm")

    /// The correspondence of every Swift parameter with Data2VecTextModel's, for `blockCount` blocks.
    public static func huggingFaceNames(blockCount: Int) -> [TensorCorrespondence] {
        [TensorCorrespondence("frontEnd.tokens.weight", "embeddings.word_embeddings.weight"),
         TensorCorrespondence("frontEnd.positions.weight", "embeddings.position_embeddings.weight"),
         TensorCorrespondence("frontEnd.embeddingNorm.weight", "embeddings.LayerNorm.weight"),
         TensorCorrespondence("frontEnd.embeddingNorm.bias", "embeddings.LayerNorm.bias")]
            + (0..<blockCount).flatMap { blockNames.correspondences(block: $0, prefix: "encoder.layer.\($0).") }
    }

    /// config.json and the tensors of the equivalent Data2VecTextModel. Throws for a Swift configuration that
    /// has no exact counterpart.
    public func huggingFaceExport() throws(InteropError) -> (config: HuggingFaceConfig, tensors: [(name: String, tensor: Tensor)]) {
        let e = encoder.configuration, f = frontEnd.configuration
        guard e.placement == .postLN, !e.inputLayerNorm, e.layerScale == nil else {
            throw InteropError("Data2VecTextModel is post-LN with its LayerNorm in the embeddings; this encoder is \(e.placement.rawValue)"
                               + "\(e.inputLayerNorm ? " with an input LayerNorm" : "")\(e.layerScale != nil ? " with LayerScale" : "")")
        }
        guard e.layerNormEpsilon == 1e-5 else { throw InteropError("layer_norm_eps must be 1e-5 as the embedding's LayerNorm; the encoder uses \(e.layerNormEpsilon)") }
        var tensors = try Self.huggingFaceNames(blockCount: e.blockCount).huggingFaceTensors(from: namedParameters)
        tensors.append(("embeddings.token_type_embeddings.weight", Tensor.zeros([1, e.dimension])))
        let config = HuggingFaceConfig([
            "architectures": ["Data2VecTextModel"], "model_type": "data2vec-text",
            "vocab_size": f.vocabularySize, "hidden_size": e.dimension, "num_hidden_layers": e.blockCount,
            "num_attention_heads": e.headCount, "intermediate_size": e.feedForwardDimension, "hidden_act": "gelu",
            "hidden_dropout_prob": decimal(e.dropout), "attention_probs_dropout_prob": decimal(e.attentionDropout),
            "max_position_embeddings": f.maxPositions + BytePairEncoding.padding + 1, "type_vocab_size": 1,
            "initializer_range": 0.02, "layer_norm_eps": 1e-5, "position_embedding_type": "absolute",
            "pad_token_id": BytePairEncoding.padding, "bos_token_id": BytePairEncoding.beginning, "eos_token_id": BytePairEncoding.end,
        ])
        return (config, tensors)
    }

    /// A Swift text backbone holding a Data2VecTextModel's weights (a checkpoint of Data2VecTextModel or of a model
    /// built on it: a "data2vec_text." prefix is dropped). The token-type embedding's row 0 is added to every
    /// token embedding (the Swift model reads every token as type 0, as RoBERTa is used).
    public static func huggingFaceImport(config: HuggingFaceConfig, tensors: [String: Tensor]) throws(InteropError) -> TextBackbone {
        try requireModelType(config, "data2vec-text")
        let d = try config.int("hidden_size", default: 768)
        try config.require("hidden_act", try config.string("hidden_act", default: "gelu"), equals: "gelu", because: "the Swift GELU is the exact erf form")
        try config.require("position_embedding_type", try config.string("position_embedding_type", default: "absolute"), equals: "absolute",
                           because: "the Swift positions are a learned table")
        try config.require("pad_token_id", try config.int("pad_token_id", default: 1), equals: BytePairEncoding.padding, because: "fairseq's dictionary pads with token 1")
        try config.require("layer_norm_eps", try config.double("layer_norm_eps", default: 1e-12), equals: 1e-5,
                           because: "the Swift LayerNorms use fairseq's 1e-5; make the model with layer_norm_eps=1e-5")
        let positions = try config.int("max_position_embeddings", default: 512)
        guard positions > BytePairEncoding.padding + 1 else { throw InteropError("config.json: max_position_embeddings \(positions) leaves no position for a token") }
        var frontEnd = TextFrontEndConfiguration(vocabularySize: try config.int("vocab_size", default: 30522), dimension: d)
        frontEnd.maxPositions = positions - BytePairEncoding.padding - 1
        frontEnd.dropout = Float(try config.double("hidden_dropout_prob", default: 0.1))
        let encoder = TransformerConfiguration(
            blockCount: try config.int("num_hidden_layers", default: 12), dimension: d, headCount: try config.int("num_attention_heads", default: 12),
            feedForwardDimension: try config.int("intermediate_size", default: 3072), placement: .postLN,
            dropout: frontEnd.dropout, attentionDropout: Float(try config.double("attention_probs_dropout_prob", default: 0.1)))
        guard d % encoder.headCount == 0 else { throw InteropError("config.json: hidden_size \(d) is not divisible by num_attention_heads \(encoder.headCount)") }
        var rng = RandomGenerator(seed: 0)
        let model = TextBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng)
        var tensors = withoutPrefix(tensors, "data2vec_text.")
        if let types = tensors["embeddings.token_type_embeddings.weight"], var words = tensors["embeddings.word_embeddings.weight"] {
            guard types.rank == 2, types.shape[1] == d, words.rank == 2, words.shape[1] == d else {
                throw InteropError("embeddings.word_embeddings.weight has shape \(words.shape) and embeddings.token_type_embeddings.weight \(types.shape); "
                                   + "config.json's hidden_size is \(d): config.json and model.safetensors disagree")
            }
            words = words + types.sliced(0..<1, along: 0)
            tensors["embeddings.word_embeddings.weight"] = words
        }
        try load(try huggingFaceNames(blockCount: encoder.blockCount).swiftTensors(from: tensors, expected: model.namedParameters), into: model)
        model.eval()
        return model
    }
}

/// Refuses a config.json of another model type.
func requireModelType(_ config: HuggingFaceConfig, _ expected: String) throws(InteropError) {
    let type = try config.string("model_type", default: "")
    guard type == expected else {
        throw InteropError("config.json has model_type '\(type)'; this reader takes '\(expected)' (transformers' \(expected) configuration)")
    }
}

/// The tensors with `prefix` removed from the names that have it (a task model's checkpoint wraps the base model).
func withoutPrefix(_ tensors: [String: Tensor], _ prefix: String) -> [String: Tensor] {
    Dictionary(tensors.map { ($0.key.hasPrefix(prefix) ? String($0.key.dropFirst(prefix.count)) : $0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
}
