// A stack of Transformer blocks, configured by one value.
//
//   post-LN (wav2vec 2.0 / data2vec speech `TransformerEncoder`):   x = Drop(LN(x)) -> blocks
//   pre-LN  (ViT / BEiT / data2vec vision):                         x -> blocks -> final LN
//
// A post-LN stack normalizes its input before block 1 (`encoder.layer_norm` in wav2vec2.py, applied after
// the convolutional positions are added, then dropout): block 1 then receives features of unit scale,
// whatever the front end produced. data2vec text does the same in its embedding (`layernorm_embedding`),
// which lives in its front end. A pre-LN stack instead ends with a LayerNorm, because its residual stream
// is never normalized on the way.
//
// Regularization as the paper's student uses it (the teacher runs in evaluation mode, where all of it is off):
// dropout on each branch, attention dropout, activation dropout, layerdrop (speech: each block is skipped
// with probability `layerDrop` in training, fairseq `encoder_layerdrop`) and stochastic depth (vision:
// BEiT's drop-path rate rises linearly from 0 at block 1 to `dropPath` at the last block).
import Autograd

/// Every size and regularization knob of a `TransformerEncoder`, with fairseq's / BEiT's names in the comments.
public struct TransformerConfiguration: Sendable, Equatable {
    /// `encoder_layers` / `depth`: L.
    public var blockCount: Int
    /// `encoder_embed_dim`: D.
    public var dimension: Int
    /// `encoder_attention_heads`: H (D divisible by H).
    public var headCount: Int
    /// `encoder_ffn_embed_dim`: F, the FFN's hidden size (4D in the paper's models).
    public var feedForwardDimension: Int
    /// Pre-LN or post-LN blocks.
    public var placement: LayerNormPlacement
    /// post-LN only: LayerNorm + dropout on the encoder's input (wav2vec 2.0 `encoder.layer_norm`).
    public var inputLayerNorm: Bool
    /// `dropout`: on each branch's output (and on the normalized input when `inputLayerNorm`).
    public var dropout: Float
    /// `attention_dropout`: on the attention weights.
    public var attentionDropout: Float
    /// `activation_dropout`: after the FFN's GELU.
    public var activationDropout: Float
    /// `encoder_layerdrop`: the probability of skipping a whole block in training (data2vec speech: 0.05).
    public var layerDrop: Float
    /// BEiT `drop_path`: the stochastic-depth rate of the last block (linear from 0 at the first).
    public var dropPath: Float
    /// BEiT `layer_scale_init_value` (pre-LN only), or nil for no LayerScale.
    public var layerScale: Float?
    /// BEiT `fix_init_weight`: divide block i's attention output and fc2 weights by sqrt(2 i) (i from 1).
    public var rescaleResidualWeights: Bool
    /// eps of every LayerNorm (PyTorch and fairseq: 1e-5; BEiT: 1e-6).
    public var layerNormEpsilon: Float
    /// How the Linear weights start (biases start at 0).
    public var initializer: Initializer

    /// A configuration; everything not given is off (no dropout, no LayerScale, ...).
    public init(blockCount: Int, dimension: Int, headCount: Int, feedForwardDimension: Int, placement: LayerNormPlacement,
                inputLayerNorm: Bool = false, dropout: Float = 0, attentionDropout: Float = 0, activationDropout: Float = 0,
                layerDrop: Float = 0, dropPath: Float = 0, layerScale: Float? = nil, rescaleResidualWeights: Bool = false,
                layerNormEpsilon: Float = 1e-5, initializer: Initializer = .pytorchDefault) {
        self.blockCount = blockCount
        self.dimension = dimension
        self.headCount = headCount
        self.feedForwardDimension = feedForwardDimension
        self.placement = placement
        self.inputLayerNorm = inputLayerNorm
        self.dropout = dropout
        self.attentionDropout = attentionDropout
        self.activationDropout = activationDropout
        self.layerDrop = layerDrop
        self.dropPath = dropPath
        self.layerScale = layerScale
        self.rescaleResidualWeights = rescaleResidualWeights
        self.layerNormEpsilon = layerNormEpsilon
        self.initializer = initializer
    }
}

/// What an encoder computed for [B, T, D] input.
public struct EncoderOutput {
    /// The final output [B, T, D] (after the final LayerNorm of a pre-LN stack).
    public let output: Tensor
    /// The last block's output [B, T, D] before any final LayerNorm (the raw residual stream of a pre-LN stack,
    /// which BEiT's mean-pooling classifier pools).
    public let lastBlockOutput: Tensor
    /// Every block's outputs, when asked for with `recordBlocks` (blocks skipped by layerdrop are absent).
    public let blocks: [BlockOutputs]
}

/// A stack of `TransformerBlock`s with the input LayerNorm of a post-LN stack or the final LayerNorm of a
/// pre-LN stack. Input [B, T, D] -> `EncoderOutput`.
///
/// ```swift
/// var config = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN)
/// config.inputLayerNorm = true
/// let encoder = TransformerEncoder(config, using: &rng)
/// let result = encoder(x, keyPaddingMask: padding, recordBlocks: true)  // result.output, result.blocks[k].feedForward
/// ```
public final class TransformerEncoder: Module {
    /// The sizes and regularization.
    public let configuration: TransformerConfiguration
    /// post-LN with `inputLayerNorm`: the LayerNorm applied to the input; nil otherwise.
    public let inputNorm: LayerNorm?
    /// Dropout after `inputNorm`.
    public let inputDropout: Dropout
    /// The blocks, first to last.
    public let blocks: [TransformerBlock]
    /// pre-LN: the LayerNorm after the last block; nil for post-LN.
    public let finalNorm: LayerNorm?
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true
    private var layerDropRNG: RandomGenerator

    /// A freshly initialized encoder.
    public init(_ configuration: TransformerConfiguration, using rng: inout RandomGenerator) {
        let c = configuration
        require(!c.inputLayerNorm || c.placement == .postLN, "TransformerEncoder: the input LayerNorm belongs to post-LN stacks")
        require(c.layerDrop >= 0 && c.layerDrop < 1, "TransformerEncoder: layerDrop must be in [0, 1), got \(c.layerDrop)")
        self.configuration = c
        inputNorm = c.inputLayerNorm ? LayerNorm(c.dimension, epsilon: c.layerNormEpsilon) : nil
        inputDropout = Dropout(c.inputLayerNorm ? c.dropout : 0, using: &rng)
        blocks = (0..<c.blockCount).map { i in
            let dropPath = c.blockCount > 1 ? c.dropPath * Float(i) / Float(c.blockCount - 1) : 0
            return TransformerBlock(dimension: c.dimension, headCount: c.headCount, feedForwardDimension: c.feedForwardDimension,
                                    placement: c.placement, dropout: c.dropout, attentionDropout: c.attentionDropout,
                                    activationDropout: c.activationDropout, dropPath: dropPath, layerScale: c.layerScale,
                                    layerNormEpsilon: c.layerNormEpsilon, initializer: c.initializer, using: &rng)
        }
        finalNorm = c.placement == .preLN ? LayerNorm(c.dimension, epsilon: c.layerNormEpsilon) : nil
        layerDropRNG = rng.split()
        if c.rescaleResidualWeights {
            for (i, block) in blocks.enumerated() {
                let scale = 1 / (2 * Float(i + 1)).squareRoot()
                for weight in [block.attention.output.weight, block.fc2.weight] {
                    for j in 0..<weight.count { weight.storage.pointer[j] *= scale }
                }
            }
        }
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        (inputNorm.map { [("inputNorm", $0 as any Module)] } ?? []) + [("inputDropout", inputDropout)]
            + blocks.enumerated().map { ("blocks.\($0.offset)", $0.element as any Module) }
            + (finalNorm.map { [("finalNorm", $0)] } ?? [])
    }

    /// x [B, T, D] -> the final output and, when `recordBlocks`, every block's outputs.
    /// - Parameters:
    ///   - keyPaddingMask: [B, T], 1 at padded positions (never attended to).
    ///   - attentionBias: [T, T], added to every block's attention scores (query rows, key columns), or nil:
    ///     `localAttentionBias` restricts every query to a window (data2vec's target-context ablation).
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionBias: Tensor? = nil, recordBlocks: Bool = false,
                               returnAttentionWeights: Bool = false) -> EncoderOutput {
        var h = x
        if let inputNorm { h = inputDropout(inputNorm(h)) }
        var records: [BlockOutputs] = []
        for block in blocks {
            // fairseq: `if not self.training or dropout_probability > self.layerdrop: run the layer`.
            if isTraining && configuration.layerDrop > 0 && layerDropRNG.uniform() < configuration.layerDrop { continue }
            let result = block(h, keyPaddingMask: keyPaddingMask, attentionBias: attentionBias, returnAttentionWeights: returnAttentionWeights)
            if recordBlocks || returnAttentionWeights { records.append(result) }
            h = result.output
        }
        return EncoderOutput(output: finalNorm.map { $0(h) } ?? h, lastBlockOutput: h, blocks: records)
    }
}
