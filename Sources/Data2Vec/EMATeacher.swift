// The teacher: an exponential moving average of the student (paper section 3.3; fairseq `EMAModule`).
//
//   teacher <- tau * teacher + (1 - tau) * student          after every optimizer step
//   tau rises linearly from tau0 to tauEnd over the first tauN updates, then stays at tauEnd (fairseq `get_annealed_rate`):
//   tau(n) = tauEnd - (tauEnd - tau0) * (1 - n / tauN)  for n < tauN.
// The teacher starts as an exact copy of the student, never receives gradients (its forward pass runs
// inside `Tensor.withoutGradients`) and always runs in evaluation mode (no dropout).
//
// What is averaged: the paper shares the feature encoder and the positional encoder between teacher and
// student (section 3.3), and fairseq's speech/text code copies them into the teacher every step. Here
// the teacher module is the Transformer only, so the front end is shared by construction (the teacher
// reads the student's features). Parameters named by `copiedParameters` (e.g. a convolutional positional
// encoder inside the encoder) are copied instead of averaged. The vision code averaged the whole model
// (data2vec vision `run_cyclical.py` uses timm's `ModelEmaV2` on the whole model); pass a teacher that contains the front end and an empty `copiedParameters` for that.
import Autograd
import NN

/// tau as a function of the update number (fairseq `get_annealed_rate`).
public struct EMASchedule: Sendable {
    /// `ema_decay`, `ema_end_decay`, `ema_anneal_end_step`.
    public var start: Float, end: Float, annealSteps: Int

    /// tau from `start` to `end` over `annealSteps` updates, then `end`.
    public init(start: Float, end: Float, annealSteps: Int) {
        require(start >= 0 && start <= 1 && end >= 0 && end <= 1, "EMASchedule: decays must be in [0, 1]")
        self.start = start
        self.end = end
        self.annealSteps = annealSteps
    }

    /// A constant tau (data2vec vision: 0.9998).
    public static func constant(_ tau: Float) -> EMASchedule { EMASchedule(start: tau, end: tau, annealSteps: 0) }

    /// tau for update number `update` (0-based).
    public func tau(at update: Int) -> Float {
        guard update < annealSteps else { return end }
        return end - (end - start) * (1 - Float(update) / Float(annealSteps))
    }
}

/// The teacher: an exponential moving average of a model's parameters, in evaluation mode.
public final class EMATeacher<Model: Module> {
    /// The averaged copy. Its parameters do not require gradients.
    public let model: Model
    /// tau per update.
    public let schedule: EMASchedule
    /// Parameter names copied from the student at each update instead of averaged.
    public let copiedParameters: Set<String>
    /// Updates done so far (the n of the schedule).
    public private(set) var updateCount = 0

    /// - Parameter copy: a second instance of the student's architecture; its values are overwritten with
    ///   the student's, so its initialization does not matter.
    public init(student: Model, copy: Model, schedule: EMASchedule, copiedParameters: Set<String> = []) {
        require(student !== copy, "EMATeacher: the teacher must be a separate instance, not the student itself")
        copy.copyParameters(from: student)
        for p in copy.parameters { p.requiresGradient = false; p.zeroGradient() }
        copy.eval()
        model = copy
        self.schedule = schedule
        self.copiedParameters = copiedParameters
    }

    /// The tau the next update will use.
    public var tau: Float { schedule.tau(at: updateCount) }

    /// One EMA step toward the student's current parameters. Call it after each optimizer step.
    public func update(from student: Model) {
        let tau = self.tau
        let sources = Dictionary(student.namedParameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        for (name, teacherParameter) in model.namedParameters {
            guard let source = sources[name], source.count == teacherParameter.count else {
                fatalError("EMATeacher: the student has no parameter \(name) of shape \(teacherParameter.shape)")
            }
            let t = teacherParameter.storage.pointer, s = source.storage.pointer
            if copiedParameters.contains(name) || tau == 0 {
                t.update(from: s, count: teacherParameter.count)
            } else if tau < 1 {
                for i in 0..<teacherParameter.count { t[i] = tau * t[i] + (1 - tau) * s[i] }
            }
        }
        updateCount += 1
    }
}
