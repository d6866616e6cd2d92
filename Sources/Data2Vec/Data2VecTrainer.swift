// One data2vec training step, the same for every modality (paper section 3; spec A.1):
//
//   features  = frontEnd(input)                        shared by student and teacher ([B, T, D])
//   student   = encoder(studentInput(features, mask))  masked input, training mode, with a graph
//   targets   = TargetBuilder(teacher(teacherInput(features)))   unmasked input, eval mode, no graph
//   loss      = Data2VecLoss(head(student at masked positions), targets at masked positions)
//   backward; optimizer step; EMA update of the teacher toward the student
//
// The modality supplies the front end and the masking through `Data2VecFrontEnd`.
import Autograd
import Foundation
import NN
import Optim

/// What a modality provides: its input type, its features and its masking.
public protocol Data2VecFrontEnd: Module {
    associatedtype Batch
    /// Features of the unmasked input [B, T, D] and, when the batch is padded, each sample's valid length.
    func features(_ batch: Batch) -> (features: Tensor, validLengths: [Int]?)
    /// The positions to mask for this batch (drawn here, or carried by the batch, as text does).
    func mask(for batch: Batch, length: Int, using rng: inout RandomGenerator) -> Mask
    /// The student's encoder input: masked positions replaced (by a learned mask embedding), positions added.
    func studentInput(_ features: Tensor, mask: Mask, batch: Batch) -> Tensor
    /// The teacher's encoder input: the unmasked features with positions added (through shared modules).
    func teacherInput(_ features: Tensor, batch: Batch) -> Tensor
}

/// What one step measured.
public struct StepMetrics: Sendable {
    public var loss: Float
    /// `compute_var` of the targets and of the predictions at the masked positions (spec A.11).
    public var targetVariance: Float
    public var predictionVariance: Float
    public var tau: Float
    public var learningRate: Float
    public var maskedPositions: Int
}

public final class Data2VecTrainer<FrontEnd: Data2VecFrontEnd> {
    public let frontEnd: FrontEnd
    public let student: TransformerEncoder
    public let teacher: EMATeacher<TransformerEncoder>
    public let head: RegressionHead
    public let config: Data2VecConfig
    public let optimizer: any Optimizer
    public let schedule: any LearningRateSchedule
    public private(set) var stepCount = 0

    /// - Parameters:
    ///   - teacherCopy: a second encoder of the same architecture (its values are replaced by the student's).
    ///   - makeOptimizer: builds the optimizer over the trainable parameters (front end, student, head).
    public init(frontEnd: FrontEnd, student: TransformerEncoder, teacherCopy: TransformerEncoder, head: RegressionHead,
                config: Data2VecConfig, schedule: any LearningRateSchedule, copiedParameters: Set<String> = [],
                makeOptimizer: ([(name: String, tensor: Tensor)]) -> any Optimizer) {
        self.frontEnd = frontEnd
        self.student = student
        self.head = head
        self.config = config
        self.schedule = schedule
        teacher = EMATeacher(student: student, copy: teacherCopy, schedule: config.emaSchedule, copiedParameters: copiedParameters)
        let named = frontEnd.namedParameters.map { ("frontEnd." + $0.name, $0.tensor) }
            + student.namedParameters.map { ("student." + $0.name, $0.tensor) }
            + head.namedParameters.map { ("head." + $0.name, $0.tensor) }
        optimizer = makeOptimizer(named)
    }

    /// Predictions and targets at the masked positions, and the loss, without updating anything.
    public func forward(_ batch: FrontEnd.Batch, using rng: inout RandomGenerator) -> (loss: Tensor, prediction: Tensor, target: Tensor, mask: Mask) {
        let (features, validLengths) = frontEnd.features(batch)
        let (b, t, d) = (features.shape[0], features.shape[1], features.shape[2])
        let mask = frontEnd.mask(for: batch, length: t, using: &rng)
        let padding = validLengths.map { lengths in
            Tensor(shape: [b, t], (0..<b).flatMap { s in (0..<t).map { $0 >= lengths[s] ? Float(1) : 0 } })
        }
        let rows = mask.flatIndices
        // Teacher: the whole input, no graph, targets from its top K blocks. It runs first, so that its
        // block records are freed before the student's graph is built (a lower peak of memory).
        let target = Tensor.withoutGradients {
            let blocks = teacher.model(frontEnd.teacherInput(features.detached(), batch: batch), keyPaddingMask: padding, recordBlocks: true).blocks
            return config.targetBuilder(blocks, validLengths: validLengths).reshaped([b * t, d]).indexSelect(rows, along: 0)
        }
        // Student: masked input, final output at the masked positions, through the head.
        let studentOutput = student(frontEnd.studentInput(features, mask: mask, batch: batch), keyPaddingMask: padding).output
        let prediction = head(studentOutput.reshaped([b * t, d]).indexSelect(rows, along: 0))
        return (config.loss(prediction, target), prediction, target, mask)
    }

    /// One training step: forward, backward, optimizer step, EMA update. Returns what it measured.
    public func step(_ batch: FrontEnd.Batch, using rng: inout RandomGenerator) -> StepMetrics {
        let learningRate = schedule.learningRate(at: stepCount)
        let tau = teacher.tau
        let (loss, prediction, target, _) = forward(batch, using: &rng)
        optimizer.zeroGradients()
        loss.backward()
        if let clip = config.clipNorm { clipGradientNorm(optimizer.groups.flatMap(\.parameters), maxNorm: clip) }
        optimizer.learningRate = learningRate
        optimizer.step()
        teacher.update(from: student)
        stepCount += 1
        return StepMetrics(loss: loss.item, targetVariance: collapseVariance(target), predictionVariance: collapseVariance(prediction.detached()),
                           tau: tau, learningRate: learningRate, maskedPositions: prediction.shape[0])
    }
}
