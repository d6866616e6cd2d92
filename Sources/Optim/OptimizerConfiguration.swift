// Every knob of an AdamW run in one value: the optimizer, its parameter groups, the learning-rate schedule
// and gradient clipping. A chapter's config holds one of these per training run and prints it.
import Autograd

/// The shape of the learning rate over a run.
public enum LearningRateShape: Sendable, Equatable {
    /// Linear warm-up, then a half cosine down to `finalFraction` x peak (BEiT / data2vec vision, text code).
    case warmupCosine
    /// fairseq's tri-stage: warm-up from 1% of the peak, hold, exponential decay to `finalFraction` x peak
    /// (wav2vec 2.0, data2vec speech: 3% / 90% / 7%). `hold` is the fraction of the run held at the peak.
    case triStage(hold: Float)
}

/// AdamW with decoupled weight decay on weight matrices only, a schedule, and optional clipping.
///
/// ```swift
/// let settings = AdamWConfiguration(peakLearningRate: 2e-3, beta2: 0.98, weightDecay: 0.05, clipNorm: 3)
/// let optimizer = settings.makeOptimizer(model.namedParameters)
/// let schedule = settings.makeSchedule(totalSteps: 1500)
/// ```
public struct AdamWConfiguration: Sendable, Equatable {
    /// The peak learning rate (after warm-up).
    public var peakLearningRate: Float
    /// Adam's betas and epsilon (PyTorch defaults 0.9, 0.999, 1e-8; fairseq speech/text 0.9, 0.98, 1e-6).
    public var beta1: Float
    /// The second moment's decay.
    public var beta2: Float
    /// Added to the second moment's square root.
    public var epsilon: Float
    /// Decoupled weight decay for tensors of rank >= 2 that are not norms or positions (`ParameterGroup.standard`).
    public var weightDecay: Float
    /// The fraction of the run spent warming up.
    public var warmupFraction: Float
    /// The learning rate at the end of the run, as a fraction of the peak.
    public var finalFraction: Float
    /// Warm-up + cosine or tri-stage.
    public var shape: LearningRateShape
    /// Clip the global gradient norm to this value before each step (fairseq `clip_norm`), or nil.
    public var clipNorm: Float?

    /// An AdamW run; see the properties (defaults: PyTorch's betas and eps, weight decay 0.01, 10% warm-up, cosine to 0, no clipping).
    public init(peakLearningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01,
                warmupFraction: Float = 0.1, finalFraction: Float = 0, shape: LearningRateShape = .warmupCosine, clipNorm: Float? = nil) {
        self.peakLearningRate = peakLearningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.warmupFraction = warmupFraction
        self.finalFraction = finalFraction
        self.shape = shape
        self.clipNorm = clipNorm
    }

    /// AdamW over `named` parameters in the two standard groups (decay / no decay).
    public func makeOptimizer(_ named: [(name: String, tensor: Tensor)]) -> AdamW {
        AdamW(ParameterGroup.standard(named, weightDecay: weightDecay), learningRate: peakLearningRate,
              beta1: beta1, beta2: beta2, epsilon: epsilon)
    }

    /// The schedule of a run of `totalSteps` updates.
    public func makeSchedule(totalSteps: Int) -> any LearningRateSchedule {
        switch shape {
        case .warmupCosine:
            let warmup = min(totalSteps - 1, Int(warmupFraction * Float(totalSteps)))
            return WarmupCosineSchedule(peak: peakLearningRate, warmupSteps: max(0, warmup), totalSteps: max(1, totalSteps),
                                        minimum: finalFraction * peakLearningRate)
        case .triStage(let hold):
            return TriStageSchedule(peak: peakLearningRate, totalSteps: totalSteps,
                                    phases: (warmupFraction, hold, max(0, 1 - warmupFraction - hold)), finalScale: max(finalFraction, 1e-6))
        }
    }
}

/// One optimizer step as every training loop here takes it: optional clipping, the scheduled learning
/// rate, the update, and forgetting the gradients. Returns the gradient norm before clipping (or nil).
@discardableResult
public func takeStep(_ optimizer: any Optimizer, learningRate: Float, clipNorm: Float?) -> Float? {
    let norm = clipNorm.map { clipGradientNorm(optimizer.groups.flatMap(\.parameters), maxNorm: $0) }
    optimizer.learningRate = learningRate
    optimizer.step()
    optimizer.zeroGradients()
    return norm
}
