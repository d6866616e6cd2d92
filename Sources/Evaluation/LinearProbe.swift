// The linear probe: how much of a label a frozen representation makes linearly available.
//
// The encoder is frozen and its features are computed once; only (LayerNorm +) Linear is trained on the
// labelled examples' features, with AdamW and a warm-up + cosine schedule. A probe that beats the same probe
// on a random encoder's features shows that pretraining put the information there.
import Autograd
import NN
import Optim

/// The probe's training settings.
public struct LinearProbeConfiguration: Sendable, Equatable {
    /// Passes over the labelled examples (at least `minimumSteps` updates in all).
    public var epochs = 30
    /// Updates at least, however few the labels.
    public var minimumSteps = 100
    /// Labelled examples per update.
    public var batchSize = 64
    /// AdamW with a 5% warm-up and cosine decay to 0.
    public var optimization = AdamWConfiguration(peakLearningRate: 1e-2, weightDecay: 1e-4, warmupFraction: 0.05)
    /// A LayerNorm (with its own scale and shift) before the Linear layer, as BEiT's `fc_norm`.
    public var normalize = true

    /// The defaults.
    public init() {}
}

/// A trained probe: the normalization (or nil) and the linear classifier.
public final class LinearProbe: Module {
    /// LayerNorm (with scale and shift) on the features, or nil.
    public let norm: LayerNorm?
    /// Linear(F, classes).
    public let linear: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A probe from `featureCount` features to `classCount` classes.
    public init(featureCount: Int, classCount: Int, normalize: Bool, using rng: inout RandomGenerator) {
        norm = normalize ? LayerNorm(featureCount) : nil
        linear = Linear(featureCount, classCount, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        (norm.map { [("norm", $0 as any Module)] } ?? []) + [("linear", linear)]
    }

    /// features [N, F] -> logits [N, C].
    public func callAsFunction(_ features: Tensor) -> Tensor { linear(norm.map { $0(features) } ?? features) }

    /// Trains a probe on the `labelled` rows of `trainFeatures` [N, F] and returns its accuracy on
    /// `testFeatures` [M, F].
    public static func accuracy(trainFeatures: Tensor, trainLabels: [Int], labelled: [Int], testFeatures: Tensor, testLabels: [Int],
                                classCount: Int, configuration: LinearProbeConfiguration = LinearProbeConfiguration(), seed: UInt64) -> Float {
        var rng = RandomGenerator(seed: seed)
        let probe = LinearProbe(featureCount: trainFeatures.shape[1], classCount: classCount, normalize: configuration.normalize, using: &rng)
        let steps = max(configuration.minimumSteps, configuration.epochs * labelled.count / configuration.batchSize)
        let optimizer = configuration.optimization.makeOptimizer(probe.namedParameters)
        let schedule = configuration.optimization.makeSchedule(totalSteps: steps)
        var batches = ShuffledBatches(labelled, size: configuration.batchSize)
        for step in 0..<steps {
            let batch = batches.next(using: &rng)
            let loss = Loss.crossEntropy(logits: probe(trainFeatures.indexSelect(batch, along: 0)), labels: batch.map { trainLabels[$0] })
            loss.backward()
            takeStep(optimizer, learningRate: schedule.learningRate(at: step), clipNorm: configuration.optimization.clipNorm)
        }
        return Evaluation.accuracy(logits: Tensor.withoutGradients { probe(testFeatures) }, labels: testLabels)
    }
}
