// The regression targets (paper section 3.3, "Targets"; fairseq `data2vec_audio.py` and
// `data2vec_text.py`, data2vec vision `engine_for_cyclical.py`):
//   y_t = FinalNorm( (1/K) * sum over the top K blocks l of LayerwiseNorm(a_t^l) )
// where a^l is a chosen output of teacher block l. Every normalization here is parameter-free (no learned
// scale or shift, so the model cannot learn to favour a layer: fairseq#4199), eps 1e-5, biased variance.
import Autograd
import NN

/// Which output of a block the targets are built from (paper Table 5).
public enum TargetPoint: String, Sendable, CaseIterable {
    /// The FFN output before the last residual connection (paper footnote 5; fairseq speech and text).
    case feedForward = "ffn"
    /// The FFN output added to the residual stream, before a post-LN block's last LayerNorm (Table 5's "FFN +
    /// residual"); in a pre-LN block the same as the end of the block.
    case feedForwardAndResidual = "ffn+residual"
    /// The end of the block (the residual stream; data2vec's released vision code, `--layer_results end`).
    case endOfBlock = "end"
    /// The self-attention output (Table 5: not usable, the model collapses).
    case selfAttention = "attention"
}

/// A parameter-free normalization of [B, T, D] representations.
public enum TargetNormalization: String, Sendable, CaseIterable {
    case none
    /// For each position, over the D channels (`layer_norm_target_layer`, `layer_norm_targets`).
    case layer
    /// For each sample and channel, over the time steps (`instance_norm_target_layer`); only the valid
    /// (non-padded) positions enter the statistics, and padded positions are set to 0.
    case instance
}

/// Builds the targets from the teacher's block records: top K, normalized per block, averaged, normalized again.
public struct TargetBuilder: Sendable {
    /// K, `average_top_k_layers`.
    public var topK: Int
    /// Which output of each block.
    public var point: TargetPoint
    /// Per block, before averaging.
    public var layerwise: TargetNormalization
    /// On the average.
    public var final: TargetNormalization

    /// A builder averaging the top `topK` blocks' `point` outputs.
    public init(topK: Int, point: TargetPoint = .feedForward, layerwise: TargetNormalization, final: TargetNormalization = .none) {
        require(topK >= 1, "TargetBuilder: topK must be at least 1")
        self.topK = topK
        self.point = point
        self.layerwise = layerwise
        self.final = final
    }

    /// Targets [B, T, D] from the teacher's block records (all blocks, in order). No graph is recorded.
    /// - Parameter validLengths: per sample, the number of non-padded positions (for instance norm).
    public func callAsFunction(_ blocks: [BlockOutputs], validLengths: [Int]? = nil) -> Tensor {
        require(blocks.count >= topK, "TargetBuilder: \(blocks.count) blocks recorded, but the top \(topK) are needed")
        return Tensor.withoutGradients { average(blocks.suffix(topK).map(chosenOutput), validLengths: validLengths) }
    }

    /// The targets at `positions` only: rows [N, D] of the [B * T, D] targets, for the flat indices
    /// b * T + t of the masked positions (the only ones the loss reads). No graph is recorded.
    ///
    /// fairseq builds the targets at every position and then keeps the masked ones (`y = y[mask_indices]`).
    /// When every normalization works within a position (none, layer norm), selecting first gives the same
    /// floats and normalizes and averages N rows instead of B * T (a sixth of them for text: 10 of 64
    /// tokens masked per sample). Instance norm takes its statistics over a sample's positions, so with it
    /// every position is built first, as fairseq does.
    public func callAsFunction(_ blocks: [BlockOutputs], at positions: [Int], validLengths: [Int]? = nil) -> Tensor {
        require(blocks.count >= topK, "TargetBuilder: \(blocks.count) blocks recorded, but the top \(topK) are needed")
        return Tensor.withoutGradients {
            let top = blocks.suffix(topK).map(chosenOutput)
            let (b, t, d) = (top[0].shape[0], top[0].shape[1], top[0].shape[2])
            guard layerwise != .instance && final != .instance else {
                return average(top, validLengths: validLengths).reshaped([b * t, d]).indexSelect(positions, along: 0)
            }
            return average(top.map { $0.reshaped([b * t, d]).indexSelect(positions, along: 0) }, validLengths: nil)
        }
    }

    /// The output of a block that `point` names: [B, T, D].
    private func chosenOutput(_ block: BlockOutputs) -> Tensor {
        switch point {
        case .feedForward: block.feedForward
        case .feedForwardAndResidual: block.feedForwardAndResidual
        case .endOfBlock: block.output
        case .selfAttention: block.selfAttention
        }
    }

    /// FinalNorm((1/K) * sum of LayerwiseNorm(a) over the K `outputs`).
    private func average(_ outputs: [Tensor], validLengths: [Int]?) -> Tensor {
        let top = outputs.map { normalize($0, layerwise, validLengths: validLengths) }
        let average = top.dropFirst().reduce(top[0], +) * (1 / Float(topK))
        return normalize(average, final, validLengths: validLengths)
    }

    func normalize(_ x: Tensor, _ kind: TargetNormalization, validLengths: [Int]?) -> Tensor {
        switch kind {
        case .none: x
        case .layer: x.layerNorm()
        case .instance: instanceNorm(x, validLengths: validLengths)
        }
    }
}

/// Instance normalization over time, per sample and channel: (x - mean_t) / sqrt(var_t + eps) with the
/// statistics over the first `validLengths[b]` positions of sample b (PyTorch's `F.instance_norm` on
/// [B, D, T] when there is no padding). x: [B, T, D].
public func instanceNorm(_ x: Tensor, validLengths: [Int]? = nil, epsilon: Float = 1e-5) -> Tensor {
    require(x.rank == 3, "instanceNorm: expects [B, T, D], got \(x.shape)")
    let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
    let lengths = validLengths ?? Array(repeating: t, count: b)
    let out = TensorStorage(zeros: x.count)
    let p = x.storage.pointer, o = out.pointer
    for sample in 0..<b {
        let n = lengths[sample]
        guard n > 0 else { continue }
        for c in 0..<d {
            var mean: Float = 0
            for step in 0..<n { mean += p[(sample * t + step) * d + c] }
            mean /= Float(n)
            var variance: Float = 0
            for step in 0..<n { let v = p[(sample * t + step) * d + c] - mean; variance += v * v }
            let inverse = 1 / (variance / Float(n) + epsilon).squareRoot()
            for step in 0..<n { o[(sample * t + step) * d + c] = (p[(sample * t + step) * d + c] - mean) * inverse }
        }
    }
    return Tensor(shape: x.shape, storage: out, operation: "instanceNorm")
}
