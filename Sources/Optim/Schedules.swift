// Learning-rate schedules: the learning rate as a function of the update number (0-based).
import Autograd
import Foundation

public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Float
}

/// The same rate at every step.
public struct ConstantSchedule: LearningRateSchedule {
    public let rate: Float
    public init(_ rate: Float) { self.rate = rate }
    public func learningRate(at step: Int) -> Float { rate }
}

/// Linear warm-up from 0 to `peak` over `warmupSteps`, then a half cosine from `peak` down to `minimum`
/// at `totalSteps` (the BEiT/data2vec-vision and data2vec-text code schedule; constant `minimum` after).
public struct WarmupCosineSchedule: LearningRateSchedule {
    public let peak: Float, minimum: Float
    public let warmupSteps: Int, totalSteps: Int

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0) {
        require(warmupSteps >= 0 && totalSteps > warmupSteps, "WarmupCosineSchedule: need 0 <= warmup < total steps")
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

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
    public let peak: Float, initialScale: Float, finalScale: Float
    public let warmupSteps: Int, holdSteps: Int, decaySteps: Int

    public init(peak: Float, totalSteps: Int, phases: (warmup: Float, hold: Float, decay: Float) = (0.03, 0.9, 0.07),
                initialScale: Float = 0.01, finalScale: Float = 0.01) {
        self.peak = peak
        self.initialScale = initialScale
        self.finalScale = finalScale
        warmupSteps = Int(Float(totalSteps) * phases.warmup)
        holdSteps = Int(Float(totalSteps) * phases.hold)
        decaySteps = Int(Float(totalSteps) * phases.decay)
    }

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
