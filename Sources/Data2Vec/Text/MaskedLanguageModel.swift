// The masked language model data2vec is compared with on text (BERT, RoBERTa: fairseq `MaskedLMModel`
// with `RobertaLMHead`): the same backbone, data, masking and budget, but the loss is a softmax over the
// vocabulary at the masked positions instead of a regression onto the teacher's representations.
import Autograd
import NN
import Optim

/// RoBERTa's masked-LM head: Linear(D, D), GELU, LayerNorm, then scores over the vocabulary with the token
/// embedding itself as the output weights (tied) plus a bias. x [N, D] -> logits [N, V].
public final class LanguageModelHead: Module {
    /// Linear(D, D) before the GELU.
    public let dense: Linear
    /// LayerNorm after the GELU.
    public let norm: LayerNorm
    /// The token embedding [V, D], shared with the front end (not listed again as a parameter).
    public let embedding: Tensor
    /// One bias per token [V].
    public let bias: Tensor
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A head whose output weights are `embedding` [V, D].
    public init(embedding: Tensor, using rng: inout RandomGenerator) {
        let (v, d) = (embedding.shape[0], embedding.shape[1])
        dense = Linear(d, d, initializer: .normal(std: 0.02), using: &rng)
        norm = LayerNorm(d)
        self.embedding = embedding
        bias = Tensor.zeros([v], requiresGradient: true)
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [("bias", bias)] }
    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("dense", dense), ("norm", norm)] }

    /// x [N, D] -> logits [N, V].
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(norm(dense(x).gelu()), weight: embedding, bias: bias) }
}

/// What one masked-LM step measured.
public struct LanguageModelMetrics: Sendable {
    /// Cross-entropy at the chosen positions, and the fraction of them predicted right.
    public var loss: Float
    /// The fraction of chosen positions predicted right.
    public var accuracy: Float
    /// The learning rate of the step.
    public var learningRate: Float
}

/// Pretrains a backbone as a masked language model (BERT, RoBERTa): predict the original token at the
/// positions BERT masking chose (the <mask>, random and unchanged ones alike, as RoBERTa does).
public final class MaskedLanguageModelTrainer {
    /// The encoder being pretrained.
    public let backbone: TextBackbone
    /// The tied output layer.
    public let head: LanguageModelHead
    /// The optimizer's settings.
    public let optimization: AdamWConfiguration
    /// AdamW over the backbone and the head.
    public let optimizer: AdamW
    /// The learning rate per step.
    public let schedule: any LearningRateSchedule
    /// Steps taken.
    public private(set) var stepCount = 0

    /// A trainer for `totalSteps` steps.
    public init(backbone: TextBackbone, optimization: AdamWConfiguration, totalSteps: Int, using rng: inout RandomGenerator) {
        self.backbone = backbone
        head = LanguageModelHead(embedding: backbone.frontEnd.tokens.weight, using: &rng)
        self.optimization = optimization
        optimizer = optimization.makeOptimizer(backbone.namedParameters + head.namedParameters.map { ("head." + $0.name, $0.tensor) })
        schedule = optimization.makeSchedule(totalSteps: totalSteps)
    }

    /// The loss (mean cross-entropy at the chosen positions), their count and how many were predicted right.
    public func evaluate(_ batch: TextBatch, using rng: inout RandomGenerator) -> (loss: Tensor, positions: Int, correct: Int) {
        let corrupted = backbone.frontEnd.corrupt(batch, using: &rng)
        let x = backbone.encoder(backbone.frontEnd.embed(corrupted.tokens, positionsOf: batch), keyPaddingMask: batch.keyPaddingMask).output
        let rows = corrupted.selected.flatIndices
        let logits = head(x.reshaped([-1, x.shape[2]]).indexSelect(rows, along: 0))
        let targets = rows.map { batch.tokens[$0 / corrupted.selected.length][$0 % corrupted.selected.length] }
        let v = logits.shape[1], scores = logits.storage.pointer
        var correct = 0
        for (r, target) in targets.enumerated() {
            var best = 0
            for k in 1..<v where scores[r * v + k] > scores[r * v + best] { best = k }
            if best == target { correct += 1 }
        }
        return (Loss.crossEntropy(logits: logits, labels: targets), rows.count, correct)
    }

    /// One update on `batch`; returns the loss and accuracy at the chosen positions.
    public func step(_ batch: TextBatch, using rng: inout RandomGenerator) -> LanguageModelMetrics {
        backbone.train()
        head.train()
        let learningRate = schedule.learningRate(at: stepCount)
        let (loss, positions, correct) = evaluate(batch, using: &rng)
        loss.backward()
        takeStep(optimizer, learningRate: learningRate, clipNorm: optimization.clipNorm)
        stepCount += 1
        return LanguageModelMetrics(loss: loss.item, accuracy: Float(correct) / Float(max(1, positions)), learningRate: learningRate)
    }
}
