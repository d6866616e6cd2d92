// A Transformer block in both placements of its LayerNorms.
//
// post-LN (Vaswani et al. 2017; BERT, RoBERTa, wav2vec 2.0, data2vec speech and text):
//     x = LN1(x + Drop(SelfAttn(x)));  f = fc2(Drop(GELU(fc1(x))));  x = LN2(x + Drop(f))
// pre-LN (GPT-2, ViT, BEiT, data2vec vision):
//     x = x + Drop(SelfAttn(LN1(x)));  f = fc2(Drop(GELU(fc1(LN2(x)))));  x = x + Drop(f)
// Pre-LN keeps an identity path from input to output and trains stably without warm-up tricks;
// post-LN normalizes the residual stream itself, so its block outputs all have unit scale.
//
// data2vec builds its targets from inside the block (paper section 3.3, footnote 5; fairseq
// `layer_results`): the block therefore reports its sub-layer outputs in a `BlockOutputs` record.
import Autograd

public enum LayerNormPlacement: String, Sendable, CaseIterable {
    case preLN = "pre-LN", postLN = "post-LN"
}

/// What a block computed, for target construction and inspection. All [B, T, D].
public struct BlockOutputs {
    /// The self-attention sub-layer's output (after its output projection, before dropout and residual).
    public let selfAttention: Tensor
    /// The FFN's output, fc2(GELU(fc1(.))), before the last residual add (data2vec's default target point).
    public let feedForward: Tensor
    /// The end of the block: the residual stream it hands to the next block.
    public let output: Tensor
    /// Attention weights [B, H, T, T], when asked for.
    public let attentionWeights: Tensor?

    public init(selfAttention: Tensor, feedForward: Tensor, output: Tensor, attentionWeights: Tensor?) {
        self.selfAttention = selfAttention
        self.feedForward = feedForward
        self.output = output
        self.attentionWeights = attentionWeights
    }
}

public final class TransformerBlock: Module {
    public let placement: LayerNormPlacement
    public let attention: MultiHeadSelfAttention
    public let attentionNorm: LayerNorm
    public let fc1: Linear
    public let fc2: Linear
    public let feedForwardNorm: LayerNorm
    public let activation: GELU
    public let dropout: Dropout
    public let activationDropout: Dropout
    public var isTraining = true

    /// - Parameters:
    ///   - dimension: D; `feedForwardDimension`: the FFN's hidden size (4D in the paper's models).
    ///   - dropout: after attention and after the FFN; `activationDropout`: inside the FFN;
    ///     `attentionDropout`: on the attention weights.
    public init(dimension: Int, headCount: Int, feedForwardDimension: Int, placement: LayerNormPlacement,
                dropout: Float = 0, attentionDropout: Float = 0, activationDropout: Float = 0,
                layerNormEpsilon: Float = 1e-5, initializer: Initializer = .pytorchDefault, using rng: inout RandomGenerator) {
        self.placement = placement
        attention = MultiHeadSelfAttention(dimension: dimension, headCount: headCount, attentionDropout: attentionDropout,
                                           initializer: initializer, using: &rng)
        attentionNorm = LayerNorm(dimension, epsilon: layerNormEpsilon)
        fc1 = Linear(dimension, feedForwardDimension, initializer: initializer, using: &rng)
        fc2 = Linear(feedForwardDimension, dimension, initializer: initializer, using: &rng)
        feedForwardNorm = LayerNorm(dimension, epsilon: layerNormEpsilon)
        activation = GELU()
        self.dropout = Dropout(dropout, using: &rng)
        self.activationDropout = Dropout(activationDropout, using: &rng)
    }

    public var submodules: [(name: String, module: any Module)] {
        [("attention", attention), ("attentionNorm", attentionNorm), ("fc1", fc1), ("fc2", fc2),
         ("feedForwardNorm", feedForwardNorm), ("activation", activation), ("dropout", dropout),
         ("activationDropout", activationDropout)]
    }

    /// x [B, T, D] -> the block's outputs. `keyPaddingMask` [B, T]: 1 at padding.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, returnAttentionWeights: Bool = false) -> BlockOutputs {
        switch placement {
        case .postLN:
            let (a, weights) = attention(x, keyPaddingMask: keyPaddingMask, returnWeights: returnAttentionWeights)
            let afterAttention = attentionNorm(x + dropout(a))
            let f = feedForward(afterAttention)
            let out = feedForwardNorm(afterAttention + dropout(f))
            return BlockOutputs(selfAttention: a, feedForward: f, output: out, attentionWeights: weights)
        case .preLN:
            let (a, weights) = attention(attentionNorm(x), keyPaddingMask: keyPaddingMask, returnWeights: returnAttentionWeights)
            let afterAttention = x + dropout(a)
            let f = feedForward(feedForwardNorm(afterAttention))
            let out = afterAttention + dropout(f)
            return BlockOutputs(selfAttention: a, feedForward: f, output: out, attentionWeights: weights)
        }
    }

    /// fc2(Drop(GELU(fc1(x)))): the position-wise feed-forward network.
    func feedForward(_ x: Tensor) -> Tensor { fc2(activationDropout(activation(fc1(x)))) }
}

/// A stack of blocks, with a final LayerNorm for pre-LN stacks (post-LN blocks end normalized already).
public final class TransformerEncoder: Module {
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm?
    public var isTraining = true

    public init(blockCount: Int, dimension: Int, headCount: Int, feedForwardDimension: Int, placement: LayerNormPlacement,
                dropout: Float = 0, attentionDropout: Float = 0, activationDropout: Float = 0, layerNormEpsilon: Float = 1e-5,
                initializer: Initializer = .pytorchDefault, using rng: inout RandomGenerator) {
        blocks = (0..<blockCount).map { _ in
            TransformerBlock(dimension: dimension, headCount: headCount, feedForwardDimension: feedForwardDimension,
                             placement: placement, dropout: dropout, attentionDropout: attentionDropout,
                             activationDropout: activationDropout, layerNormEpsilon: layerNormEpsilon,
                             initializer: initializer, using: &rng)
        }
        finalNorm = placement == .preLN ? LayerNorm(dimension, epsilon: layerNormEpsilon) : nil
    }

    public var submodules: [(name: String, module: any Module)] {
        blocks.enumerated().map { ("blocks.\($0.offset)", $0.element as any Module) } + (finalNorm.map { [("finalNorm", $0)] } ?? [])
    }

    /// x [B, T, D] -> the final output [B, T, D] and, when `recordBlocks`, every block's outputs.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, recordBlocks: Bool = false,
                               returnAttentionWeights: Bool = false) -> (output: Tensor, blocks: [BlockOutputs]) {
        var h = x
        var records: [BlockOutputs] = []
        for block in blocks {
            let result = block(h, keyPaddingMask: keyPaddingMask, returnAttentionWeights: returnAttentionWeights)
            if recordBlocks || returnAttentionWeights { records.append(result) }
            h = result.output
        }
        return (finalNorm.map { $0(h) } ?? h, records)
    }
}
