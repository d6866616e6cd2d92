// Multi-head self-attention (Vaswani et al., 2017, section 3.2), with a key padding mask.
//
//   Q, K, V = x W_q^T, x W_k^T, x W_v^T            split into H heads of size dh = D / H
//   A = softmax(Q K^T / sqrt(dh) + mask)            [B, H, T, T]; row t: how much query t attends to each key
//   y = concat_h(A_h V_h) W_o^T + b_o
// The three projections are one Linear(D, 3D) named `qkv` (rows 0..<D are W_q, then W_k, then W_v):
// one product instead of three. Padded keys get -inf before the softmax, so they receive no attention.
import Autograd
import Foundation

/// Multi-head self-attention over [B, T, D] with one packed `qkv` projection and an `output` projection.
///
/// ```swift
/// let attention = MultiHeadSelfAttention(dimension: 64, headCount: 4, using: &rng)
/// let (y, weights) = attention(x, keyPaddingMask: padding, returnWeights: true)  // [B, T, 64], [B, 4, T, T]
/// ```
public final class MultiHeadSelfAttention: Module {
    /// Linear(D, 3D): rows 0..<D are W_q, then W_k, then W_v.
    public let qkv: Linear
    /// Linear(D, D) applied to the concatenated heads.
    public let output: Linear
    /// Dropout on the attention weights in training (fairseq `attention_dropout`).
    public let attentionDropout: Dropout
    /// H; the head size is D / H.
    public let headCount: Int
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - dimension: D, divisible by `headCount`.
    ///   - attentionDropout: the probability of dropping an attention weight in training.
    public init(dimension: Int, headCount: Int, attentionDropout: Float = 0, initializer: Initializer = .pytorchDefault,
                using rng: inout RandomGenerator) {
        require(dimension % headCount == 0, "MultiHeadSelfAttention: dimension \(dimension) is not divisible by \(headCount) heads")
        self.headCount = headCount
        qkv = Linear(dimension, 3 * dimension, initializer: initializer, using: &rng)
        output = Linear(dimension, dimension, initializer: initializer, using: &rng)
        self.attentionDropout = Dropout(attentionDropout, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        [("qkv", qkv), ("output", output), ("attentionDropout", attentionDropout)]
    }

    /// - Parameters:
    ///   - x: [B, T, D].
    ///   - keyPaddingMask: [B, T], 1 where the position is padding (it is never attended to), else 0.
    ///   - attentionBias: [T, T] added to the scores of query i (row) and key j (column) before the softmax, for
    ///     every sample and head (`localAttentionBias`: a window around each query), or nil.
    ///   - returnWeights: also return the attention weights [B, H, T, T] (for plots).
    /// - Returns: the output [B, T, D] and, when asked, the weights.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionBias: Tensor? = nil,
                               returnWeights: Bool = false) -> (output: Tensor, weights: Tensor?) {
        guard x.rank == 3 else { fatalError("MultiHeadSelfAttention: input must be [B, T, D], got \(x.shape)") }
        let (b, t) = (x.shape[0], x.shape[1])
        if let keyPaddingMask, keyPaddingMask.shape != [b, t] {
            fatalError("MultiHeadSelfAttention: key padding mask \(keyPaddingMask.shape) does not match input \(x.shape) (expected [\(b), \(t)])")
        }
        // The fused op (Autograd/Ops+Attention.swift) computes what `composed` below writes out op by op,
        // faster: no copies into a head-major layout, heads split across threads.
        let dropout = isTraining && attentionDropout.probability > 0
            ? AttentionDropout(probability: attentionDropout.probability, seed: attentionDropout.nextSeed()) : nil
        let (context, weights) = Tensor.multiHeadAttention(packed: qkv(x), headCount: headCount, keyPaddingMask: keyPaddingMask,
                                                           attentionBias: attentionBias, dropout: dropout, returnWeights: returnWeights)
        return (output(context), weights)
    }

    /// The same attention written with separate ops: the readable reference the fused op is tested
    /// against (values, weights and gradients).
    public func composed(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionBias: Tensor? = nil,
                         returnWeights: Bool = false) -> (output: Tensor, weights: Tensor?) {
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let h = headCount, dh = d / h
        // [B, T, 3D] -> [3, B, H, T, dh]: q, k, v with the heads as a batch axis.
        let heads = qkv(x).reshaped([b, t, 3, h, dh]).permuted([2, 0, 3, 1, 4])
        let q = heads.sliced(0..<1, along: 0).reshaped([b * h, t, dh])
        let k = heads.sliced(1..<2, along: 0).reshaped([b * h, t, dh])
        let v = heads.sliced(2..<3, along: 0).reshaped([b * h, t, dh])
        var scores = Tensor.matmul(q, k, transposeB: true) * (1 / Float(dh).squareRoot())  // [B*H, T, T]
        if let keyPaddingMask {
            let additive = keyPaddingMask.scalars.map { $0 != 0 ? -Float.infinity : 0 }
            scores = (scores.reshaped([b, h, t, t]) + Tensor(shape: [b, 1, 1, t], additive)).reshaped([b * h, t, t])
        }
        if let attentionBias { scores = scores + attentionBias.reshaped([1, t, t]) }
        let weights = scores.softmax(alongAxis: -1)
        let context = Tensor.matmul(attentionDropout(weights), v)  // [B*H, T, dh]
            .reshaped([b, h, t, dh]).permuted([0, 2, 1, 3]).reshaped([b, t, d])
        return (output(context), returnWeights ? weights.reshaped([b, h, t, t]) : nil)
    }
}
