// The Swift speech backbone with the waveform front end as Hugging Face's `Data2VecAudioModel` (transformers
// models/data2vec/modeling_data2vec_audio.py, the layout fairseq's data2vec audio checkpoints convert to) and back.
//
//   Swift (Sources/Data2Vec/Speech/, NN/TransformerBlock.swift)   Hugging Face
//   frontEnd.featureEncoder.convolutions.i.weight   feature_extractor.conv_layers.i.conv.weight (no bias in either)
//   frontEnd.featureEncoder.norms.i                 feature_extractor.conv_layers.i.layer_norm
//   frontEnd.featureEncoder.outputNorm, projection  feature_projection.layer_norm, feature_projection.projection
//   frontEnd.maskEmbedding                          masked_spec_embed
//   frontEnd.positions.convolutions.i               encoder.pos_conv_embed.layers.i.conv (LayerNorms without weights)
//   encoder.inputNorm                               encoder.layer_norm
//   encoder.blocks.i.attention.qkv (rows q|k|v)     encoder.layers.i.attention.{q_proj, k_proj, v_proj}
//   encoder.blocks.i.attention.output               encoder.layers.i.attention.out_proj
//   encoder.blocks.i.attentionNorm                  encoder.layers.i.layer_norm
//   encoder.blocks.i.fc1, fc2                       encoder.layers.i.feed_forward.{intermediate_dense, output_dense}
//   encoder.blocks.i.feedForwardNorm                encoder.layers.i.final_layer_norm
//
// The log-mel front end has no counterpart: Data2VecAudioModel always starts from the waveform with the CNN.
// Hugging Face zeroes padded frames once, before the positional convolutions; the Swift model again before each
// later one (ConvolutionalPositions.swift): clips alone or of equal length give the same outputs in both.
import Autograd
import Data2Vec
import Foundation
import NN

extension Backbone where FrontEnd == SpeechFrontEnd {
    /// Inside each of Data2VecAudioModel's blocks (wav2vec 2.0's names).
    static let blockNames = BlockNames(query: "attention.q_proj", key: "attention.k_proj", value: "attention.v_proj",
                                       output: "attention.out_proj", attentionNorm: "layer_norm", fc1: "feed_forward.intermediate_dense",
                                       fc2: "feed_forward.output_dense", feedForwardNorm: "final_layer_norm")

    /// The correspondence of every Swift parameter with Data2VecAudioModel's.
    public static func huggingFaceNames(convolutions: Int, positionLayers: Int, blockCount: Int) -> [TensorCorrespondence] {
        let f = "frontEnd.featureEncoder."
        var names = (0..<convolutions).flatMap { i in
            [TensorCorrespondence(f + "convolutions.\(i).weight", "feature_extractor.conv_layers.\(i).conv.weight"),
             TensorCorrespondence(f + "norms.\(i).weight", "feature_extractor.conv_layers.\(i).layer_norm.weight"),
             TensorCorrespondence(f + "norms.\(i).bias", "feature_extractor.conv_layers.\(i).layer_norm.bias")]
        }
        names += ["weight", "bias"].flatMap { p in
            [TensorCorrespondence(f + "outputNorm.\(p)", "feature_projection.layer_norm.\(p)"),
             TensorCorrespondence(f + "projection.\(p)", "feature_projection.projection.\(p)"),
             TensorCorrespondence("encoder.inputNorm.\(p)", "encoder.layer_norm.\(p)")]
                + (0..<positionLayers).map { TensorCorrespondence("frontEnd.positions.convolutions.\($0).\(p)", "encoder.pos_conv_embed.layers.\($0).conv.\(p)") }
        }
        names.append(TensorCorrespondence("frontEnd.maskEmbedding", "masked_spec_embed"))
        names += (0..<blockCount).flatMap { blockNames.correspondences(block: $0, prefix: "encoder.layers.\($0).") }
        return names
    }

    /// config.json and the tensors of the equivalent Data2VecAudioModel. Throws for the log-mel front end and for
    /// any other configuration without an exact counterpart.
    public func huggingFaceExport() throws(InteropError) -> (config: HuggingFaceConfig, tensors: [(name: String, tensor: Tensor)]) {
        let e = encoder.configuration, f = frontEnd.configuration
        guard f.features == .waveform else {
            throw InteropError("the log-mel front end has no Hugging Face counterpart (Data2VecAudioModel starts from the waveform with "
                               + "wav2vec 2.0's CNN): export a backbone pretrained with --front-end waveform")
        }
        guard e.placement == .postLN, e.inputLayerNorm, e.layerScale == nil, e.layerNormEpsilon == 1e-5 else {
            throw InteropError("Data2VecAudioModel is post-LN with an input LayerNorm (eps 1e-5); this encoder is \(e.placement.rawValue), "
                               + "input LayerNorm \(e.inputLayerNorm), LayerScale \(e.layerScale.map { "\($0)" } ?? "none"), eps \(e.layerNormEpsilon)")
        }
        guard f.positionDepth >= 1 else { throw InteropError("Data2VecAudioModel has at least one positional convolution; this front end has none (--position-depth 0)") }
        let names = Self.huggingFaceNames(convolutions: f.convolutions.count, positionLayers: f.positionDepth, blockCount: e.blockCount)
        let config = HuggingFaceConfig([
            "architectures": ["Data2VecAudioModel"], "model_type": "data2vec-audio",
            "hidden_size": e.dimension, "num_hidden_layers": e.blockCount, "num_attention_heads": e.headCount,
            "intermediate_size": e.feedForwardDimension, "hidden_act": "gelu", "feat_extract_activation": "gelu",
            "hidden_dropout": decimal(e.dropout), "attention_dropout": decimal(e.attentionDropout), "activation_dropout": decimal(e.activationDropout),
            "feat_proj_dropout": 0.0, "final_dropout": 0.0, "layerdrop": decimal(e.layerDrop), "layer_norm_eps": 1e-5,
            "conv_dim": f.convolutions.map(\.channels), "conv_kernel": f.convolutions.map(\.kernel), "conv_stride": f.convolutions.map(\.stride),
            "conv_bias": false, "num_conv_pos_embeddings": f.positionDepth, "conv_pos_kernel_size": f.positionKernel,
            "num_conv_pos_embedding_groups": f.positionGroups,
            "mask_time_prob": f.masking.probability, "mask_time_length": f.masking.spanLength,
        ])
        return (config, try names.huggingFaceTensors(from: namedParameters))
    }

    /// A Swift speech backbone (waveform front end) holding a Data2VecAudioModel's weights (a "data2vec_audio."
    /// prefix, as in a task model's checkpoint, is dropped).
    public static func huggingFaceImport(config: HuggingFaceConfig, tensors: [String: Tensor]) throws(InteropError) -> SpeechBackbone {
        try requireModelType(config, "data2vec-audio")
        for key in ["hidden_act", "feat_extract_activation"] {
            try config.require(key, try config.string(key, default: "gelu"), equals: "gelu", because: "the Swift GELU is the exact erf form")
        }
        try config.require("conv_bias", try config.bool("conv_bias", default: false), equals: false, because: "the Swift CNN has no biases, as data2vec audio's")
        try config.require("layer_norm_eps", try config.double("layer_norm_eps", default: 1e-5), equals: 1e-5, because: "the Swift LayerNorms use 1e-5")
        let dims = try config.ints("conv_dim", default: [512, 512, 512, 512, 512, 512, 512])
        let kernels = try config.ints("conv_kernel", default: [10, 3, 3, 3, 3, 2, 2]), strides = try config.ints("conv_stride", default: [5, 2, 2, 2, 2, 2, 2])
        guard dims.count == kernels.count, dims.count == strides.count, !dims.isEmpty else {
            throw InteropError("config.json: conv_dim, conv_kernel and conv_stride must have the same nonzero length, got \(dims.count), \(kernels.count), \(strides.count)")
        }
        let d = try config.int("hidden_size", default: 768)
        var frontEnd = SpeechFrontEndConfiguration(dimension: d)
        frontEnd.features = .waveform
        frontEnd.convolutions = (0..<dims.count).map { ConvolutionLayer(channels: dims[$0], kernel: kernels[$0], stride: strides[$0]) }
        frontEnd.positionDepth = try config.int("num_conv_pos_embeddings", default: 5)
        frontEnd.positionKernel = try config.int("conv_pos_kernel_size", default: 19)
        frontEnd.positionGroups = try config.int("num_conv_pos_embedding_groups", default: 16)
        guard frontEnd.positionKernel % 2 == 1 else {
            throw InteropError("config.json: conv_pos_kernel_size \(frontEnd.positionKernel) is even; Hugging Face then drops a frame after each "
                               + "positional convolution, which the Swift model (odd kernels, same length) does not do")
        }
        guard frontEnd.positionDepth >= 1, d % frontEnd.positionGroups == 0 else {
            throw InteropError("config.json: num_conv_pos_embeddings must be at least 1 and hidden_size divisible by num_conv_pos_embedding_groups")
        }
        let encoder = TransformerConfiguration(
            blockCount: try config.int("num_hidden_layers", default: 12), dimension: d, headCount: try config.int("num_attention_heads", default: 12),
            feedForwardDimension: try config.int("intermediate_size", default: 3072), placement: .postLN, inputLayerNorm: true,
            dropout: Float(try config.double("hidden_dropout", default: 0.1)), attentionDropout: Float(try config.double("attention_dropout", default: 0.1)),
            activationDropout: Float(try config.double("activation_dropout", default: 0.1)), layerDrop: Float(try config.double("layerdrop", default: 0.1)))
        guard d % encoder.headCount == 0 else { throw InteropError("config.json: hidden_size \(d) is not divisible by num_attention_heads \(encoder.headCount)") }
        var rng = RandomGenerator(seed: 0)
        let model = SpeechBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng)
        let names = huggingFaceNames(convolutions: dims.count, positionLayers: frontEnd.positionDepth, blockCount: encoder.blockCount)
        try load(try names.swiftTensors(from: withoutPrefix(tensors, "data2vec_audio."), expected: model.namedParameters), into: model)
        model.eval()
        return model
    }
}
