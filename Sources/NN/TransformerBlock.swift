// A Transformer block in both placements of its LayerNorms.
//
// post-LN (Vaswani et al. 2017; BERT, RoBERTa, wav2vec 2.0, data2vec speech and text):
//     x = LN1(x + Drop(SelfAttn(x)));  f = fc2(Drop(GELU(fc1(x))));  x = LN2(x + Drop(f))
// pre-LN (GPT-2, ViT, BEiT, data2vec vision; BEiT adds LayerScale g1, g2 and stochastic depth DropPath):
//     x = x + DropPath(g1 * Drop(SelfAttn(LN1(x))));  f = g2 * fc2(Drop(GELU(fc1(LN2(x)))));  x = x + DropPath(Drop(f))
// Pre-LN keeps an identity path from input to output and trains stably without warm-up tricks;
// post-LN normalizes the residual stream itself, so its block outputs all have unit scale.
//
// data2vec builds its targets from inside the block (paper section 3.3, footnote 5; fairseq
// `layer_results`): the block therefore reports its sub-layer outputs in a `BlockOutputs` record.
import Autograd

/// Where a block's LayerNorms sit: after each residual add (post-LN) or at the start of each branch (pre-LN).
public enum LayerNormPlacement: String, Sendable, CaseIterable {
    case preLN = "pre-LN", postLN = "post-LN"
}

/// What a block computed, for target construction and inspection. All [B, T, D].
public struct BlockOutputs {
    /// The self-attention sub-layer's output (after its output projection, before dropout and residual).
    public let selfAttention: Tensor
    /// The FFN's output, fc2(GELU(fc1(.))), before the last residual add (data2vec's default target point).
    public let feedForward: Tensor
    /// The FFN's output added to the residual stream, before the block's last LayerNorm (post-LN; paper Table 5's
    /// "FFN + residual"). In a pre-LN block nothing follows the add, so this is `output`.
    public let feedForwardAndResidual: Tensor
    /// The end of the block: the residual stream it hands to the next block.
    public let output: Tensor
    /// Attention weights [B, H, T, T], when asked for.
    public let attentionWeights: Tensor?

    /// Collects a block's outputs (all [B, T, D]; the weights [B, H, T, T] or nil). `feedForwardAndResidual`
    /// defaults to `output` (a pre-LN block).
    public init(selfAttention: Tensor, feedForward: Tensor, feedForwardAndResidual: Tensor? = nil, output: Tensor, attentionWeights: Tensor?) {
        self.selfAttention = selfAttention
        self.feedForward = feedForward
        self.feedForwardAndResidual = feedForwardAndResidual ?? output
        self.output = output
        self.attentionWeights = attentionWeights
    }
}

/// One Transformer block: self-attention and a position-wise feed-forward network, each with a residual
/// connection and a LayerNorm placed as `placement` says. Input and output [B, T, D].
///
/// ```swift
/// let block = TransformerBlock(dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN, using: &rng)
/// let outputs = block(x)  // outputs.output [B, T, 64]; outputs.feedForward is data2vec's target point
/// ```
public final class TransformerBlock: Module {
    /// Where the LayerNorms sit.
    public let placement: LayerNormPlacement
    /// Multi-head self-attention.
    public let attention: MultiHeadSelfAttention
    /// LN1: after the attention's residual add (post-LN) or before the attention (pre-LN).
    public let attentionNorm: LayerNorm
    /// The FFN: fc1 (D -> F), GELU, fc2 (F -> D).
    public let fc1: Linear
    /// F -> D.
    public let fc2: Linear
    /// LN2: after the FFN's residual add (post-LN) or before the FFN (pre-LN).
    public let feedForwardNorm: LayerNorm
    /// GELU (erf form).
    public let activation: GELU
    /// fairseq `dropout`: on each branch's output before its residual add.
    public let dropout: Dropout
    /// fairseq `activation_dropout`: inside the FFN, after the GELU.
    public let activationDropout: Dropout
    /// BEiT's stochastic depth on both residual branches (pre-LN; 0 = off).
    public let dropPath: DropPath
    /// BEiT's LayerScale (pre-LN only): learned per-channel scales g1, g2 of the two branches, or nil.
    public let attentionScale: Tensor?
    /// LayerScale's g2 [D], or nil.
    public let feedForwardScale: Tensor?
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - dimension: D; `feedForwardDimension`: the FFN's hidden size F (4D in the paper's models).
    ///   - dropout: after attention and after the FFN; `activationDropout`: inside the FFN;
    ///     `attentionDropout`: on the attention weights; `dropPath`: stochastic depth of both branches.
    ///   - layerScale: LayerScale's initial value (BEiT `init_values`, pre-LN only), or nil for none.
    public init(dimension: Int, headCount: Int, feedForwardDimension: Int, placement: LayerNormPlacement,
                dropout: Float = 0, attentionDropout: Float = 0, activationDropout: Float = 0, dropPath: Float = 0,
                layerScale: Float? = nil, layerNormEpsilon: Float = 1e-5, initializer: Initializer = .pytorchDefault,
                using rng: inout RandomGenerator) {
        require(layerScale == nil || placement == .preLN, "TransformerBlock: LayerScale is defined for pre-LN blocks (BEiT)")
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
        self.dropPath = DropPath(dropPath, using: &rng)
        attentionScale = layerScale.map { Tensor.full([dimension], $0, requiresGradient: true) }
        feedForwardScale = layerScale.map { Tensor.full([dimension], $0, requiresGradient: true) }
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] {
        [("attentionScale", attentionScale), ("feedForwardScale", feedForwardScale)].compactMap { name, t in t.map { (name, $0) } }
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        [("attention", attention), ("attentionNorm", attentionNorm), ("fc1", fc1), ("fc2", fc2),
         ("feedForwardNorm", feedForwardNorm), ("activation", activation), ("dropout", dropout),
         ("activationDropout", activationDropout), ("dropPath", dropPath)]
    }

    /// x [B, T, D] -> the block's outputs. `keyPaddingMask` [B, T]: 1 at padding; `attentionBias` [T, T]: added to
    /// the attention scores (query rows, key columns), or nil.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionBias: Tensor? = nil,
                               returnAttentionWeights: Bool = false) -> BlockOutputs {
        switch placement {
        case .postLN:
            let (a, weights) = attention(x, keyPaddingMask: keyPaddingMask, attentionBias: attentionBias, returnWeights: returnAttentionWeights)
            let afterAttention = attentionNorm(x + dropout(a))
            let f = feedForward(afterAttention)
            let sum = afterAttention + dropout(f)
            let out = feedForwardNorm(sum)
            return BlockOutputs(selfAttention: a, feedForward: f, feedForwardAndResidual: sum, output: out, attentionWeights: weights)
        case .preLN:
            var (a, weights) = attention(attentionNorm(x), keyPaddingMask: keyPaddingMask, attentionBias: attentionBias,
                                         returnWeights: returnAttentionWeights)
            if let attentionScale { a = a * attentionScale }
            let afterAttention = x + dropPath(dropout(a))
            var f = feedForward(feedForwardNorm(afterAttention))
            if let feedForwardScale { f = f * feedForwardScale }  // BEiT returns the scaled FFN output as its `fc_feature`
            let out = afterAttention + dropPath(dropout(f))
            return BlockOutputs(selfAttention: a, feedForward: f, output: out, attentionWeights: weights)
        }
    }

    /// fc2(Drop(GELU(fc1(x)))): the position-wise feed-forward network. fc1 and the (erf) GELU go through
    /// `Tensor.linearGELU`, which saves a buffer when no graph is recorded (the EMA teacher).
    func feedForward(_ x: Tensor) -> Tensor {
        let hidden = activation.form == .erf ? Tensor.linearGELU(x, weight: fc1.weight, bias: fc1.bias) : activation(fc1(x))
        return fc2(activationDropout(hidden))
    }
}
