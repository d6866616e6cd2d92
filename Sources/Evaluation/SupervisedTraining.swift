// Supervised training with a budget set by convergence: epochs over the labelled examples, validated on a
// part carved out of them, stopped when the validation score has not improved for a while, and ended with
// the parameters of the best validation. Fine-tuning a pretrained encoder and training the same network
// from scratch both go through here, under the same rule, so neither is cut short.
import Autograd
import NN
import Optim

/// How long supervised training may run, and how it decides to stop.
public struct TrainingBudget: Sendable, Equatable {
    /// The most passes over the training part of the labelled examples.
    public var maximumEpochs: Int
    /// The most updates in all, whatever the epochs.
    public var maximumSteps: Int
    /// No early stop before this many updates (a network trained from scratch often sits on a plateau first).
    public var minimumSteps: Int
    /// Examples per update.
    public var batchSize: Int
    /// Validate once per epoch, but at least every `maximumStepsBetweenValidations` and at most every
    /// `minimumStepsBetweenValidations` updates (tiny training sets have epochs of one step).
    public var minimumStepsBetweenValidations: Int
    /// At least one validation every this many updates.
    public var maximumStepsBetweenValidations: Int
    /// Stop after this many validations without a better score.
    public var patience: Int
    /// The fraction of the labelled examples held out for validation, class by class.
    public var validationFraction: Double
    /// At most this many held out (a smaller fraction for large label sets: validating 13,000 phrases every
    /// 150 updates took as long as the training; the rest train).
    public var maximumValidationExamples: Int
    /// With fewer labelled examples than this, nothing is held out: training runs `maximumEpochs` and the
    /// last parameters are kept (too few examples to both train and validate).
    public var minimumExamplesForValidation: Int
    /// The passes when nothing is held out, if not `maximumEpochs` (nothing then stops a run early, and a handful of
    /// examples needs fewer passes than a validated run may take).
    public var maximumEpochsWithoutValidation: Int?

    /// A budget; see the properties.
    public init(maximumEpochs: Int, maximumSteps: Int = .max, minimumSteps: Int = 0, batchSize: Int = 64, minimumStepsBetweenValidations: Int = 1,
                maximumStepsBetweenValidations: Int = 200, patience: Int = 5, validationFraction: Double = 0.2,
                maximumValidationExamples: Int = .max, minimumExamplesForValidation: Int = 50) {
        self.maximumEpochs = maximumEpochs
        self.maximumSteps = maximumSteps
        self.minimumSteps = minimumSteps
        self.batchSize = batchSize
        self.minimumStepsBetweenValidations = minimumStepsBetweenValidations
        self.maximumStepsBetweenValidations = maximumStepsBetweenValidations
        self.patience = patience
        self.validationFraction = validationFraction
        self.maximumValidationExamples = maximumValidationExamples
        self.minimumExamplesForValidation = minimumExamplesForValidation
    }
}

/// What a supervised run did.
public struct TrainingReport: Sendable {
    /// Updates taken, and the update after which the kept parameters were saved.
    public var steps: Int
    /// The update after which the kept parameters were saved.
    public var bestStep: Int
    /// Passes over the training part (fractional).
    public var epochs: Double
    /// The best validation score, or nil when nothing was held out.
    public var bestValidationScore: Float?
    /// Examples trained on.
    public var trainingExamples: Int
    /// Examples held out to validate.
    public var validationExamples: Int
    /// Whether the run stopped before its budget.
    public var stoppedEarly: Bool
}

/// Trains `model` on the labelled `examples` until the validation score stops improving (see `TrainingBudget`),
/// then restores the best parameters.
///
/// - Parameters:
///   - labels: every example's label, for the class-by-class validation split.
///   - loss: the training loss of a batch of example indices (the model is in training mode).
///   - score: a validation score of some example indices, higher is better (the model is in evaluation
///     mode and no graph is recorded), for example the accuracy or minus an error rate.
///   - lengths: each example's length, for padded sequences of different lengths: then every pass's batches
///     hold examples of similar length (`lengthBucketedBatches`, fairseq's batching by size) in random
///     order, and little of a batch is padding. Nil: uniformly shuffled batches.
public func trainWithEarlyStopping(_ model: any Module, optimization: AdamWConfiguration, examples: [Int], labels: [Int],
                                   budget: TrainingBudget, seed: UInt64, lengths: ((Int) -> Int)? = nil, loss: ([Int]) -> Tensor,
                                   score: ([Int]) -> Float) -> TrainingReport {
    var rng = RandomGenerator(seed: seed)
    let fraction = min(budget.validationFraction, Double(budget.maximumValidationExamples) / Double(max(1, examples.count)))
    let (train, validation) = validationSplit(examples, labels: labels, fraction: fraction,
                                              minimumExamples: budget.minimumExamplesForValidation, using: &rng)
    var batches = ShuffledBatches(train, size: budget.batchSize)
    var bucketed: [[Int]] = []  // what is left of this pass's length-bucketed batches
    func nextBatch() -> [Int] {
        guard let lengths else { return batches.next(using: &rng) }
        if bucketed.isEmpty { bucketed = lengthBucketedBatches(train, lengths: lengths, size: batches.size, using: &rng) }
        return bucketed.removeLast()
    }
    let stepsPerEpoch = max(1, batches.batchesPerEpoch)
    let epochs = validation.isEmpty ? budget.maximumEpochsWithoutValidation ?? budget.maximumEpochs : budget.maximumEpochs
    let totalSteps = min(budget.maximumSteps, epochs * stepsPerEpoch)
    let interval = max(budget.minimumStepsBetweenValidations, min(stepsPerEpoch, budget.maximumStepsBetweenValidations))
    let optimizer = optimization.makeOptimizer(model.namedParameters)
    let schedule = optimization.makeSchedule(totalSteps: totalSteps)
    let parameters = model.parameters
    var best: (score: Float, step: Int, values: [[Float]])? = nil
    var sinceBest = 0, step = 0

    func validate() -> Float {
        model.eval()
        defer { model.train() }
        return Tensor.withoutGradients { score(validation) }
    }

    model.train()
    while step < totalSteps {
        loss(nextBatch()).backward()
        takeStep(optimizer, learningRate: schedule.learningRate(at: step), clipNorm: optimization.clipNorm)
        step += 1
        guard !validation.isEmpty, step % interval == 0 || step == totalSteps else { continue }
        let current = validate()
        if best == nil || current > best!.score {
            best = (current, step, parameters.map(\.scalars))
            sinceBest = 0
        } else {
            sinceBest += 1
            if sinceBest >= budget.patience && step >= budget.minimumSteps { break }
        }
    }
    if let best {
        for (p, values) in zip(parameters, best.values) { p.storage.pointer.update(from: values, count: p.count) }
    }
    model.eval()
    return TrainingReport(steps: step, bestStep: best?.step ?? step, epochs: Double(step) / Double(stepsPerEpoch),
                          bestValidationScore: best?.score, trainingExamples: train.count, validationExamples: validation.count,
                          stoppedEarly: step < totalSteps)
}
