// The knobs of the algorithm, named as in Swift and documented with their fairseq keys
// (examples/data2vec/models/data2vec_audio.py, data2vec_text.py; spec E).

public struct Data2VecConfig: Sendable {
    /// `average_top_k_layers`: K, the number of top teacher blocks averaged into a target.
    public var averageTopKLayers: Int
    /// Which block output: FFN before the last residual (fairseq default) or the end of the block
    /// (vision code's `--layer_results end`).
    public var targetPoint: TargetPoint = .feedForward
    /// `instance_norm_target_layer` (.instance) or `layer_norm_target_layer` (.layer), per block.
    public var layerwiseTargetNorm: TargetNormalization
    /// `layer_norm_targets` (.layer) or `instance_norm_targets` (.instance), on the average.
    public var finalTargetNorm: TargetNormalization = .none
    /// `ema_decay`: tau at the first update.
    public var emaDecay: Float = 0.999
    /// `ema_end_decay`: tau after the anneal.
    public var emaEndDecay: Float = 0.9999
    /// `ema_anneal_end_step`: updates over which tau rises linearly.
    public var emaAnnealEndStep: Int
    /// `loss_beta`: Smooth L1 beta; 0 means L2.
    public var lossBeta: Float = 0
    /// `loss_scale`: nil means 1/sqrt(D).
    public var lossScale: Float? = nil
    /// `head_layers`: 1 (Linear) or 2 (the text MLP).
    public var headLayers = 1
    /// `clip_norm`: gradient-norm clipping, or nil.
    public var clipNorm: Float? = nil

    public init(averageTopKLayers: Int, layerwiseTargetNorm: TargetNormalization, emaAnnealEndStep: Int) {
        self.averageTopKLayers = averageTopKLayers
        self.layerwiseTargetNorm = layerwiseTargetNorm
        self.emaAnnealEndStep = emaAnnealEndStep
    }

    public var targetBuilder: TargetBuilder {
        TargetBuilder(topK: averageTopKLayers, point: targetPoint, layerwise: layerwiseTargetNorm, final: finalTargetNorm)
    }

    public var emaSchedule: EMASchedule { EMASchedule(start: emaDecay, end: emaEndDecay, annealSteps: emaAnnealEndStep) }

    public var loss: Data2VecLoss { Data2VecLoss(beta: lossBeta, scale: lossScale) }
}
