// What chapter 07 trains on text besides data2vec: the backbone both objectives pretrain, the masked language
// model it is compared with (RoBERTa's objective, same encoder, data, masking and budget), and the sentence
// classifier fine-tuned on SST-2 (RoBERTa's `RobertaClassificationHead` on <s>).
import Autograd
import NN
import Optim

/// The pretrained part: the text front end and the encoder. Checkpoints hold exactly this.
public final class TextBackbone: Module {
    /// Embeddings, positions, their LayerNorm.
    public let frontEnd: TextFrontEnd
    /// The Transformer.
    public let encoder: TransformerEncoder
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A backbone of these parts.
    public init(frontEnd: TextFrontEnd, encoder: TransformerEncoder) {
        self.frontEnd = frontEnd
        self.encoder = encoder
    }

    /// A freshly initialized backbone of the given sizes.
    public convenience init(frontEnd: TextFrontEndConfiguration, encoder: TransformerConfiguration, using rng: inout RandomGenerator) {
        self.init(frontEnd: TextFrontEnd(frontEnd, using: &rng), encoder: TransformerEncoder(encoder, using: &rng))
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("frontEnd", frontEnd), ("encoder", encoder)] }

    /// The encoder's output [B, T, D] for the unmasked batch.
    public func encode(_ batch: TextBatch) -> Tensor { encoder(frontEnd.encoderInput(batch), keyPaddingMask: batch.keyPaddingMask).output }

    /// [B, D]: the output at <s> (`first`) or the mean over the valid tokens.
    public func sentenceFeatures(_ batch: TextBatch, first: Bool) -> Tensor {
        let x = encode(batch)
        if first { return x.sliced(0..<1, along: 1).reshaped([batch.tokens.count, x.shape[2]]) }
        let t = x.shape[1]
        let weights = Tensor(shape: [batch.tokens.count, t, 1], batch.lengths.flatMap { n in (0..<t).map { $0 < n ? 1 / Float(n) : 0 } })
        return (x * weights).sum(alongAxes: [1])
    }
}

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

/// RoBERTa's sentence classifier: the encoder's output at <s> -> dropout -> Linear(D, D) -> tanh -> dropout
/// -> Linear(D, classes). A batch of sentences -> logits [B, classes].
public final class SentenceClassifier: Module {
    /// The encoder (pretrained or not).
    public let backbone: TextBackbone
    /// Dropout before each Linear layer.
    public let dropout: Dropout
    /// Linear(D, D) before the tanh.
    public let dense: Linear
    /// Linear(D, classes).
    public let output: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A classifier with a fresh head.
    public init(backbone: TextBackbone, classCount: Int, dropout: Float = 0.1, using rng: inout RandomGenerator) {
        let d = backbone.encoder.configuration.dimension
        self.backbone = backbone
        self.dropout = Dropout(dropout, using: &rng)
        dense = Linear(d, d, initializer: .normal(std: 0.02), using: &rng)
        output = Linear(d, classCount, initializer: .normal(std: 0.02), using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        [("backbone", backbone), ("dropout", dropout), ("dense", dense), ("output", output)]
    }

    /// Sentences -> logits [B, classes].
    public func callAsFunction(_ batch: TextBatch) -> Tensor {
        let first = backbone.sentenceFeatures(batch, first: true)
        return output(dropout(dense(dropout(first)).tanh()))
    }
}
