// One data2vec training step, the same for every modality (paper section 3; fairseq
// `Data2VecAudioModel.forward`, `Data2VecTextModel.forward`; data2vec vision `engine_for_cyclical.py`):
//
//   inputs    = frontEnd.inputs(batch)        the student's masked view, the teacher's whole view, the mask
//   targets   = TargetBuilder(teacher(inputs.teacher)) at masked positions    eval mode, no graph, top K blocks
//   student   = encoder(inputs.student)                           training mode (dropout ...), with a graph
//   loss      = Data2VecLoss(head(student at masked positions), targets at masked positions)
//   backward; AdamW step; EMA update of the teacher toward the student
//
// The modality supplies the front end and the masking through `Data2VecFrontEnd`; everything else is here.
import Autograd
import Foundation
import NN
import Optim

/// What a front end hands the trainer for one batch. All tensors [B, T, D].
public struct Data2VecInputs {
    /// The student's encoder input: masked positions replaced (a learned mask embedding, or `<mask>`
    /// tokens), positions added. Computed with a graph, so the front end is trained through it.
    public var student: Tensor
    /// The teacher's encoder input: the whole, unmasked batch through the same (shared) front end,
    /// computed without a graph.
    public var teacher: Tensor
    /// The positions where the loss is taken (text: only those that show `<mask>`).
    public var mask: Mask
    /// Per sample, the number of valid (non-padded) positions at the start of its row; nil without padding.
    public var validLengths: [Int]?

    /// The two views, the loss positions, and the valid lengths (nil without padding).
    public init(student: Tensor, teacher: Tensor, mask: Mask, validLengths: [Int]? = nil) {
        self.student = student
        self.teacher = teacher
        self.mask = mask
        self.validLengths = validLengths
    }

    /// [B, T] with 1 at the padded positions, for the encoders' key padding masks; nil without padding.
    public var keyPaddingMask: Tensor? {
        guard let validLengths else { return nil }
        let (b, t) = (student.shape[0], student.shape[1])
        return Tensor(shape: [b, t], (0..<b).flatMap { s in (0..<t).map { $0 >= validLengths[s] ? Float(1) : 0 } })
    }
}

/// What a modality provides: its batch type, its masking and its two views of a batch.
public protocol Data2VecFrontEnd: Module {
    associatedtype Batch
    /// Draws the mask for `batch` and embeds the batch twice: masked for the student, whole for the teacher.
    func inputs(for batch: Batch, using rng: inout RandomGenerator) -> Data2VecInputs
    /// The whole, unmasked batch as the encoder's input [B, T, D] (for probes and fine-tuning), and each
    /// sample's valid positions (nil when nothing is padded).
    func unmaskedInput(_ batch: Batch) -> (input: Tensor, validLengths: [Int]?)
    /// Positions at the start of the sequence that hold no part of the input (a CLS token), which pooling skips.
    var leadingTokens: Int { get }
    /// Where each of `count` encoder positions lies in the input (a time step, a patch's row and column), nil for
    /// a leading token: what a window of target context is measured in (`Data2VecConfig.teacherContextRadius`).
    func positionCoordinates(count: Int) -> [[Int]?]
}

extension Data2VecFrontEnd {
    /// None by default.
    public var leadingTokens: Int { 0 }
    /// A sequence by default: position t (after the leading tokens) at [t].
    public func positionCoordinates(count: Int) -> [[Int]?] {
        Array(repeating: nil, count: leadingTokens) + sequenceCoordinates(count - leadingTokens)
    }
}

/// What one step measured.
public struct StepMetrics: Sendable {
    /// The loss of the step.
    public var loss: Float
    /// `compute_var` of the targets and of the predictions at the masked positions (fairseq
    /// `data2vec_audio.py`): near 0.001 means every position got the same vector (collapse).
    public var targetVariance: Float
    /// `compute_var` of the student's predictions.
    public var predictionVariance: Float
    /// The EMA decay and the learning rate this step used.
    public var tau: Float
    /// The learning rate of the step.
    public var learningRate: Float
    /// The number of masked positions (loss positions) and their fraction of all valid positions.
    public var maskedPositions: Int
    /// Masked positions over valid positions.
    public var maskedFraction: Float
}

/// Trains a student `TransformerEncoder` with data2vec: it owns the EMA teacher, the regression head and
/// the optimizer, and `step(_:using:)` runs one update.
///
/// ```swift
/// let trainer = Data2VecTrainer(frontEnd: frontEnd, student: TransformerEncoder(encoderConfig, using: &rng),
///                               config: data2vecConfig, optimization: adamW, totalSteps: 1500, using: &rng)
/// for _ in 0..<1500 { let metrics = trainer.step(nextBatch(), using: &rng) }
/// ```
public final class Data2VecTrainer<FrontEnd: Data2VecFrontEnd> {
    /// The modality's front end (trained with the student, shared with the teacher).
    public let frontEnd: FrontEnd
    /// The encoder being pretrained.
    public let student: TransformerEncoder
    /// The exponential moving average of `student` (the Transformer only: the front end is shared).
    public let teacher: EMATeacher<TransformerEncoder>
    /// `config.headLayers` deep: Linear(D, D), or D -> 2D -> GELU -> D.
    public let head: RegressionHead
    /// The data2vec settings (targets, teacher, loss, head).
    public let config: Data2VecConfig
    /// The optimizer's settings.
    public let optimization: AdamWConfiguration
    /// AdamW over the front end, the student and the head.
    public let optimizer: AdamW
    /// The learning rate per step.
    public let schedule: any LearningRateSchedule
    /// Steps taken.
    public private(set) var stepCount = 0
    /// The teacher's attention band (`Data2VecConfig.teacherContextRadius`) per sequence length, built once.
    private var teacherWindows: [Int: Tensor] = [:]

    /// - Parameters:
    ///   - student: the encoder to pretrain; the teacher starts as an exact copy of it.
    ///   - headInitializer: how the regression head's weights start.
    ///   - totalSteps: the length of the run, for the learning-rate schedule.
    public init(frontEnd: FrontEnd, student: TransformerEncoder, config: Data2VecConfig, optimization: AdamWConfiguration,
                totalSteps: Int, headInitializer: Initializer = .pytorchDefault, using rng: inout RandomGenerator) {
        self.frontEnd = frontEnd
        self.student = student
        self.config = config
        self.optimization = optimization
        head = RegressionHead(dimension: student.configuration.dimension, depth: config.headLayers, initializer: headInitializer, using: &rng)
        teacher = EMATeacher(student: student, copy: TransformerEncoder(student.configuration, using: &rng), schedule: config.emaSchedule)
        let named = frontEnd.namedParameters.map { ("frontEnd." + $0.name, $0.tensor) }
            + student.namedParameters.map { ("student." + $0.name, $0.tensor) }
            + head.namedParameters.map { ("head." + $0.name, $0.tensor) }
        optimizer = optimization.makeOptimizer(named)
        schedule = optimization.makeSchedule(totalSteps: totalSteps)
    }

    /// Predictions [N, D] and targets [N, D] at the N masked positions, and the loss, without updating anything.
    public func forward(_ batch: FrontEnd.Batch, using rng: inout RandomGenerator) -> (loss: Tensor, prediction: Tensor, target: Tensor, inputs: Data2VecInputs) {
        let inputs = frontEnd.inputs(for: batch, using: &rng)
        let (b, t, d) = (inputs.student.shape[0], inputs.student.shape[1], inputs.student.shape[2])
        let padding = inputs.keyPaddingMask
        let rows = inputs.mask.flatIndices
        // Teacher: the whole input, no graph, targets from its top K blocks. It runs first, so that its
        // block records are freed before the student's graph is built (a lower peak of memory).
        // With a target context radius, the teacher's attention is restricted to a window (paper section 5.5).
        let window = config.teacherContextRadius.map { teacherWindow(length: t, radius: $0) }
        let target = Tensor.withoutGradients {
            let blocks = teacher.model(inputs.teacher, keyPaddingMask: padding, attentionBias: window, recordBlocks: true).blocks
            return config.targetBuilder(blocks, at: rows, validLengths: inputs.validLengths)
        }
        // Student: masked input, final output at the masked positions, through the head.
        let studentOutput = student(inputs.student, keyPaddingMask: padding).output
        let prediction = head(studentOutput.reshaped([b * t, d]).indexSelect(rows, along: 0))
        return (config.loss(prediction, target), prediction, target, inputs)
    }

    /// The band that restricts the teacher to `radius` around each of `length` positions (built on first use).
    private func teacherWindow(length: Int, radius: Int) -> Tensor {
        if let window = teacherWindows[length] { return window }
        let window = localAttentionBias(coordinates: frontEnd.positionCoordinates(count: length), radius: radius)
        teacherWindows[length] = window
        return window
    }

    /// One training step: forward, backward, optimizer step, EMA update. Returns what it measured.
    public func step(_ batch: FrontEnd.Batch, using rng: inout RandomGenerator) -> StepMetrics {
        student.train()
        frontEnd.train()
        let learningRate = schedule.learningRate(at: stepCount)
        let tau = teacher.tau
        let (loss, prediction, target, inputs) = forward(batch, using: &rng)
        optimizer.zeroGradients()
        loss.backward()
        takeStep(optimizer, learningRate: learningRate, clipNorm: optimization.clipNorm)
        teacher.update(from: student)
        stepCount += 1
        let validPositions = inputs.validLengths?.reduce(0, +) ?? inputs.mask.batchSize * inputs.mask.length
        return StepMetrics(loss: loss.item, targetVariance: collapseVariance(target), predictionVariance: collapseVariance(prediction.detached()),
                           tau: tau, learningRate: learningRate, maskedPositions: prediction.shape[0],
                           maskedFraction: Float(prediction.shape[0]) / Float(max(1, validPositions)))
    }
}
