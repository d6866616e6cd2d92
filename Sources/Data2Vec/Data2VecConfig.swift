// The knobs of the algorithm in one value, named as in Swift and documented with their fairseq keys
// (examples/data2vec/models/data2vec_audio.py, data2vec_text.py) and data2vec vision's flags
// (beit/run_cyclical.py). The encoder's sizes live in `TransformerConfiguration` and the optimizer's in
// `AdamWConfiguration`; a chapter's config holds all three.

/// What data2vec itself adds to an encoder: the targets, the teacher's schedule, the loss and the head.
///
/// ```swift
/// var config = Data2VecConfig(averageTopKLayers: 8, layerwiseTargetNorm: .instance, emaAnnealEndStep: 30_000)  // speech
/// config.lossBeta = 0            // L2
/// config.headLayers = 1          // Linear(D, D)
/// ```
public struct Data2VecConfig: Sendable, Equatable {
    /// `average_top_k_layers`: K, the number of top teacher blocks averaged into a target.
    public var averageTopKLayers: Int
    /// Which block output: the FFN before the last residual (paper footnote 5; fairseq speech and text)
    /// or the end of the block (data2vec vision, `--layer_results end`).
    public var targetPoint: TargetPoint = .feedForward
    /// `instance_norm_target_layer` (.instance, speech) or `layer_norm_target_layer` (.layer, text and
    /// vision), applied to each of the K blocks before averaging.
    public var layerwiseTargetNorm: TargetNormalization
    /// `layer_norm_targets` (.layer; vision's `--post_target_layer_norm`) or `instance_norm_targets`
    /// (.instance), applied to the average.
    public var finalTargetNorm: TargetNormalization = .none
    /// `ema_decay`: tau at the first update.
    public var emaDecay: Float = 0.999
    /// `ema_end_decay`: tau after the anneal.
    public var emaEndDecay: Float = 0.9999
    /// `ema_anneal_end_step`: updates over which tau rises linearly from `emaDecay` to `emaEndDecay`.
    public var emaAnnealEndStep: Int
    /// `loss_beta`: the Smooth L1 beta; 0 means L2 (speech). Text 4, vision 2.
    public var lossBeta: Float = 0
    /// `loss_scale`: nil means 1 / sqrt(D) (speech); text uses 1.
    public var lossScale: Float? = nil
    /// `head_layers`: the regression head's depth: 1 = Linear(D, D) (speech, vision), 2 = Linear(D, 2D),
    /// GELU, Linear(2D, D) (text).
    public var headLayers = 1
    /// The teacher's context (paper section 5.5, Figure 3; no fairseq key, the ablation's code was not released):
    /// nil, the whole input (data2vec); or r, each position of the teacher attends only to positions within r
    /// steps of it (r patches in both directions on an image's grid). The student always sees its whole input.
    public var teacherContextRadius: Int? = nil

    /// The settings that differ between modalities; the rest start at fairseq's speech defaults.
    public init(averageTopKLayers: Int, layerwiseTargetNorm: TargetNormalization, emaAnnealEndStep: Int) {
        self.averageTopKLayers = averageTopKLayers
        self.layerwiseTargetNorm = layerwiseTargetNorm
        self.emaAnnealEndStep = emaAnnealEndStep
    }

    /// The target builder these settings describe.
    public var targetBuilder: TargetBuilder {
        TargetBuilder(topK: averageTopKLayers, point: targetPoint, layerwise: layerwiseTargetNorm, final: finalTargetNorm)
    }

    /// Fits the teacher's schedule to a run of `steps` updates: tau anneals over the whole run, and ends where
    /// the teacher averages over about `windowFraction` of it (an EMA with decay tau averages over roughly
    /// 1 / (1 - tau) updates), never fewer than `minimumWindow` updates. fairseq's configs end with windows of
    /// 10,000 updates (speech, 0.9999 of 400,000) to 5,000 (vision, 0.9998 of 500,000); a run a thousand times
    /// shorter keeps the proportion, not the number. `emaDecay` (the start) is left as it is.
    public mutating func scaleTeacherSchedule(toSteps steps: Int, windowFraction: Double = 0.125, minimumWindow: Int = 1000) {
        let window = max(Double(minimumWindow), windowFraction * Double(steps))
        emaEndDecay = Float(1 - 1 / window)
        emaAnnealEndStep = steps
    }

    /// tau as a function of the update number.
    public var emaSchedule: EMASchedule { EMASchedule(start: emaDecay, end: emaEndDecay, annealSteps: emaAnnealEndStep) }

    /// The loss these settings describe.
    public var loss: Data2VecLoss { Data2VecLoss(beta: lossBeta, scale: lossScale) }
}
