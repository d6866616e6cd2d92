// Learning-rate schedules: the learning rate as a function of the update number (0-based).
import Autograd
import Foundation

/// The learning rate as a function of the step number.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    /// The rate.
    public let rate: Float
    /// A constant schedule.
    public init(_ rate: Float) { self.rate = rate }
    /// The same rate at every step.
    public func learningRate(at step: Int) -> Float { rate }
}

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then a half cosine from `peak` down to `minimum`
/// at `totalSteps` (the BEiT/data2vec-vision and data2vec-text code schedule; constant `minimum` after).
public struct WarmupCosineSchedule: LearningRateSchedule {
    /// The peak and the floor.
    public let peak: Float, minimum: Float
    /// The warm-up's length and the run's.
    public let warmupSteps: Int, totalSteps: Int

    /// A warm-up + cosine schedule.
    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0) {
        require(warmupSteps >= 0 && totalSteps > warmupSteps, "WarmupCosineSchedule: need 0 <= warmup < total steps")
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The rate at `step` (0-based).
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let progress = min(1, Float(step - warmupSteps) / Float(totalSteps - warmupSteps))
        return minimum + (peak - minimum) * 0.5 * (1 + cos(Float.pi * progress))
    }
}

/// fairseq's tri-stage schedule (`tri_stage_lr_scheduler.py`), used by wav2vec 2.0 and data2vec speech:
/// a linear warm-up from `initialScale * peak` to `peak`, a hold at `peak`, then an *exponential* decay
/// to `finalScale * peak`; constant after. Stage lengths are fractions of `totalSteps` (speech: 3/90/7%).
public struct TriStageSchedule: LearningRateSchedule {
    /// The peak, and the start and end as fractions of it.
    public let peak: Float, initialScale: Float, finalScale: Float
    /// The lengths of the three stages.
    public let warmupSteps: Int, holdSteps: Int, decaySteps: Int

    /// A tri-stage schedule over `totalSteps`.
    public init(peak: Float, totalSteps: Int, phases: (warmup: Float, hold: Float, decay: Float) = (0.03, 0.9, 0.07),
                initialScale: Float = 0.01, finalScale: Float = 0.01) {
        self.peak = peak
        self.initialScale = initialScale
        self.finalScale = finalScale
        warmupSteps = Int(Float(totalSteps) * phases.warmup)
        holdSteps = Int(Float(totalSteps) * phases.hold)
        decaySteps = Int(Float(totalSteps) * phases.decay)
    }

    /// The rate at `step` (0-based).
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps {
            return peak * (initialScale + (1 - initialScale) * Float(step) / Float(warmupSteps))
        }
        if step < warmupSteps + holdSteps { return peak }
        let inDecay = step - warmupSteps - holdSteps
        if inDecay <= decaySteps && decaySteps > 0 {
            return peak * expf(logf(finalScale) * Float(inDecay) / Float(decaySteps))
        }
        return peak * finalScale
    }
}
