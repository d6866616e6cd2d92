// The Swift vision backbone as Hugging Face's `Data2VecVisionModel` (transformers
// models/data2vec/modeling_data2vec_vision.py: BEiT's layout, which data2vec vision's checkpoints convert to)
// and back. It needs the CLS token (`ImagePatchConfiguration.classToken`, chapter 05's --class-token):
// transformers always puts one before the patches, and a token that every patch attends to cannot be removed.
//
//   Swift (Sources/Data2Vec/Vision/, NN/TransformerBlock.swift)   Hugging Face
//   frontEnd.classEmbedding                     embeddings.cls_token [1, 1, D]
//   frontEnd.maskEmbedding                      embeddings.mask_token [1, 1, D]
//   frontEnd.embedding (Linear [D, p p])        embeddings.patch_embeddings.projection (Conv2d [D, 1, p, p])
//   (fixed 2-D sine-cosine positions)           embeddings.position_embeddings [1, 1 + N, D], row 0 (CLS) zeros
//   encoder.blocks.i.attention.qkv (rows q|k|v) encoder.layer.i.attention.attention.{query, key, value}
//   encoder.blocks.i.attention.output           encoder.layer.i.attention.output.dense
//   encoder.blocks.i.attentionNorm              encoder.layer.i.layernorm_before
//   encoder.blocks.i.fc1, fc2                   encoder.layer.i.intermediate.dense, output.dense
//   encoder.blocks.i.feedForwardNorm            encoder.layer.i.layernorm_after
//   encoder.blocks.i.attentionScale, feedForwardScale   encoder.layer.i.lambda_1, lambda_2 (LayerScale)
//   encoder.finalNorm                           layernorm
//
// BEiT's key projection has no bias. The Swift key bias is exported as nothing, exactly: it adds q . b_k to every
// score of a query, the same for all keys, and the softmax does not change when all its inputs move together.
// On import the key bias is zero. The positions are exported as a learned table holding the fixed values;
// importing requires that table to be those values (the Swift positions are not learned).
import Autograd
import Data2Vec
import Foundation
import NN

extension Backbone where FrontEnd == ImagePatchFrontEnd {
    /// Inside each of Data2VecVisionModel's blocks (BEiT's names).
    static let blockNames = BlockNames(query: "attention.attention.query", key: "attention.attention.key", value: "attention.attention.value",
                                       output: "attention.output.dense", attentionNorm: "layernorm_before", fc1: "intermediate.dense",
                                       fc2: "output.dense", feedForwardNorm: "layernorm_after")

    /// The correspondence of every Swift parameter with Data2VecVisionModel's, except the attention's query, key
    /// and value biases (the key's has no counterpart: `huggingFaceExport`).
    static func huggingFaceNames(dimension d: Int, patchSize p: Int, blockCount: Int, layerScale: Bool) -> [TensorCorrespondence] {
        var names = [TensorCorrespondence("frontEnd.classEmbedding", "embeddings.cls_token", shape: [1, 1, d]),
                     TensorCorrespondence("frontEnd.maskEmbedding", "embeddings.mask_token", shape: [1, 1, d]),
                     TensorCorrespondence("frontEnd.embedding.weight", "embeddings.patch_embeddings.projection.weight", shape: [d, 1, p, p]),
                     TensorCorrespondence("frontEnd.embedding.bias", "embeddings.patch_embeddings.projection.bias"),
                     TensorCorrespondence("encoder.finalNorm.weight", "layernorm.weight"),
                     TensorCorrespondence("encoder.finalNorm.bias", "layernorm.bias")]
        for i in 0..<blockCount {
            let prefix = "encoder.layer.\(i)."
            names += blockNames.correspondences(block: i, prefix: prefix).filter { $0.swift != "encoder.blocks.\(i).attention.qkv.bias" }
            if layerScale {
                names += [TensorCorrespondence("encoder.blocks.\(i).attentionScale", prefix + "lambda_1"),
                          TensorCorrespondence("encoder.blocks.\(i).feedForwardScale", prefix + "lambda_2")]
            }
        }
        return names
    }

    /// config.json and the tensors of the equivalent Data2VecVisionModel. Throws without a CLS token, and for any
    /// other configuration without an exact counterpart.
    public func huggingFaceExport() throws(InteropError) -> (config: HuggingFaceConfig, tensors: [(name: String, tensor: Tensor)]) {
        let e = encoder.configuration, f = frontEnd.configuration
        guard frontEnd.classEmbedding != nil else {
            throw InteropError("Data2VecVisionModel always puts a CLS token before the patches and this model has none: pretrain with --class-token "
                               + "(ImagePatchConfiguration.classToken) to export")
        }
        guard e.placement == .preLN else { throw InteropError("Data2VecVisionModel is pre-LN (BEiT); this encoder is \(e.placement.rawValue)") }
        let d = e.dimension, n = f.grid * f.grid
        let names = Self.huggingFaceNames(dimension: d, patchSize: f.patchSize, blockCount: e.blockCount, layerScale: e.layerScale != nil)
        let parameters = namedParameters.filter { !$0.name.hasSuffix("attention.qkv.bias") }
        var tensors = try names.huggingFaceTensors(from: parameters)
        for (i, block) in encoder.blocks.enumerated() {
            guard let bias = block.attention.qkv.bias else { continue }
            tensors.append(("encoder.layer.\(i).attention.attention.query.bias", Tensor(shape: [d], Array(bias.scalars[0..<d]))))
            tensors.append(("encoder.layer.\(i).attention.attention.value.bias", Tensor(shape: [d], Array(bias.scalars[(2 * d)..<(3 * d)]))))
        }
        let positions = [Float](repeating: 0, count: d) + frontEnd.positions.scalars  // the CLS token's row, then the patches'
        tensors.append(("embeddings.position_embeddings", Tensor(shape: [1, 1 + n, d], positions)))
        let config = HuggingFaceConfig([
            "architectures": ["Data2VecVisionModel"], "model_type": "data2vec-vision",
            "hidden_size": d, "num_hidden_layers": e.blockCount, "num_attention_heads": e.headCount,
            "intermediate_size": e.feedForwardDimension, "hidden_act": "gelu", "layer_norm_eps": decimal(e.layerNormEpsilon),
            "hidden_dropout_prob": decimal(e.dropout), "attention_probs_dropout_prob": decimal(e.attentionDropout), "drop_path_rate": decimal(e.dropPath),
            "image_size": f.imageSize, "patch_size": f.patchSize, "num_channels": 1, "use_mask_token": true,
            "use_absolute_position_embeddings": true, "use_relative_position_bias": false, "use_shared_relative_position_bias": false,
            "layer_scale_init_value": decimal(e.layerScale ?? 0), "use_mean_pooling": false,
        ])
        return (config, tensors)
    }

    /// A Swift vision backbone (with its CLS token) holding a Data2VecVisionModel's weights (a "data2vec_vision."
    /// prefix is dropped). The position table must hold the Swift model's fixed positions (zeros for the CLS token).
    public static func huggingFaceImport(config: HuggingFaceConfig, tensors: [String: Tensor]) throws(InteropError) -> VisionBackbone {
        try requireModelType(config, "data2vec-vision")
        try config.require("hidden_act", try config.string("hidden_act", default: "gelu"), equals: "gelu", because: "the Swift GELU is the exact erf form")
        try config.require("num_channels", try config.int("num_channels", default: 3), equals: 1, because: "the Swift patches are grey-scale")
        try config.require("use_relative_position_bias", try config.bool("use_relative_position_bias", default: false), equals: false,
                           because: "the Swift attention has no relative position bias")
        try config.require("use_shared_relative_position_bias", try config.bool("use_shared_relative_position_bias", default: false), equals: false,
                           because: "the Swift attention has no relative position bias")
        try config.require("use_absolute_position_embeddings", try config.bool("use_absolute_position_embeddings", default: false), equals: true,
                           because: "the Swift positions are added to the patches")
        let d = try config.int("hidden_size", default: 768)
        var frontEnd = ImagePatchConfiguration(dimension: d)
        frontEnd.imageSize = try config.int("image_size", default: 224)
        frontEnd.patchSize = try config.int("patch_size", default: 16)
        frontEnd.classToken = true
        guard frontEnd.patchSize > 0, frontEnd.imageSize % frontEnd.patchSize == 0, d % 4 == 0 else {
            throw InteropError("config.json: image_size must be a multiple of patch_size and hidden_size a multiple of 4 (the 2-D sine-cosine positions)")
        }
        let scale = try config.double("layer_scale_init_value", default: 0.1)
        let encoder = TransformerConfiguration(
            blockCount: try config.int("num_hidden_layers", default: 12), dimension: d, headCount: try config.int("num_attention_heads", default: 12),
            feedForwardDimension: try config.int("intermediate_size", default: 3072), placement: .preLN,
            layerScale: scale > 0 ? Float(scale) : nil, layerNormEpsilon: Float(try config.double("layer_norm_eps", default: 1e-12)))
        guard d % encoder.headCount == 0 else { throw InteropError("config.json: hidden_size \(d) is not divisible by num_attention_heads \(encoder.headCount)") }
        var rng = RandomGenerator(seed: 0)
        let model = VisionBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng)
        let tensors = withoutPrefix(tensors, "data2vec_vision.")
        let n = frontEnd.grid * frontEnd.grid
        guard let table = tensors["embeddings.position_embeddings"], table.shape == [1, 1 + n, d] else {
            throw InteropError("model.safetensors needs embeddings.position_embeddings of shape [1, \(1 + n), \(d)]"
                               + "\(tensors["embeddings.position_embeddings"].map { ", got \($0.shape)" } ?? ", it has none")")
        }
        let expected = [Float](repeating: 0, count: d) + model.frontEnd.positions.scalars
        let difference = zip(table.scalars, expected).map { abs($0 - $1) }.max() ?? 0
        guard difference < 1e-6 else {
            throw InteropError("embeddings.position_embeddings is a learned table that differs from the Swift model's fixed 2-D sine-cosine positions "
                               + "(zeros for the CLS token) by up to \(difference): the Swift model cannot represent it")
        }
        let names = huggingFaceNames(dimension: d, patchSize: frontEnd.patchSize, blockCount: encoder.blockCount, layerScale: encoder.layerScale != nil)
        let expectedParameters = model.namedParameters.filter { !$0.name.hasSuffix("attention.qkv.bias") }
        var values = try names.swiftTensors(from: tensors, expected: expectedParameters)
        for i in 0..<encoder.blockCount {
            let query = "encoder.layer.\(i).attention.attention.query.bias", value = "encoder.layer.\(i).attention.attention.value.bias"
            guard let q = tensors[query], let v = tensors[value], q.shape == [d], v.shape == [d] else {
                throw InteropError("model.safetensors needs \(query) and \(value), each of shape [\(d)]")
            }
            values["encoder.blocks.\(i).attention.qkv.bias"] = Tensor(shape: [3 * d], q.scalars + [Float](repeating: 0, count: d) + v.scalars)
        }
        try load(values, into: model)
        model.eval()
        return model
    }
}
