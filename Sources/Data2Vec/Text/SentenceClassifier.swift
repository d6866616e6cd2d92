// The sentence classifier fine-tuned on SST-2 (RoBERTa's `RobertaClassificationHead` in
// fairseq/models/roberta/model.py, on the output at <s>).
import Autograd
import NN

extension Backbone where FrontEnd == TextFrontEnd {
    /// [B, D]: the output at <s> (RoBERTa's classification head reads it), or the mean or the maximum of each
    /// channel over the valid tokens.
    public func sentenceFeatures(_ batch: TextBatch, pooling: SentencePooling) -> Tensor {
        let x = encode(batch).output.output
        switch pooling {
        case .first: return x.sliced(0..<1, along: 1).reshaped([batch.tokens.count, x.shape[2]])
        case .mean: return meanOverValidPositions(x, validLengths: batch.lengths)
        case .max: return maxOverValidPositions(x, validLengths: batch.lengths)
        }
    }
}

/// Which vector of the encoder's output a sentence classifier reads.
public enum SentencePooling: String, Sendable, CaseIterable {
    /// The output at <s>: RoBERTa's `RobertaClassificationHead` (`features[:, 0, :]`).
    case first = "<s>"
    /// The mean over the sentence's tokens, <s> and </s> included (padding left out): what cramming
    /// (Geiping & Goldstein, 2022) and sentence encoders pool.
    case mean
    /// The maximum of each channel over the sentence's tokens (padding left out): InferSent's max pooling
    /// (Conneau et al., 2017). One swapped word pair changes two positions of a sentence; the mean dilutes that by
    /// the sentence's length, the maximum need not.
    case max
}

/// RoBERTa's sentence classifier: the encoder's output at <s> (or the mean or maximum over the tokens) -> dropout ->
/// Linear(D, D) -> tanh -> dropout -> Linear(D, classes). A batch of sentences -> logits [B, classes].
public final class SentenceClassifier: Module {
    /// The encoder (pretrained or not).
    public let backbone: TextBackbone
    /// What the head reads.
    public let pooling: SentencePooling
    /// Dropout before each Linear layer.
    public let dropout: Dropout
    /// Linear(D, D) before the tanh.
    public let dense: Linear
    /// Linear(D, classes).
    public let output: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A classifier with a fresh head.
    public init(backbone: TextBackbone, classCount: Int, pooling: SentencePooling = .first, dropout: Float = 0.1,
                using rng: inout RandomGenerator) {
        let d = backbone.encoder.configuration.dimension
        self.backbone = backbone
        self.pooling = pooling
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
        let pooled = backbone.sentenceFeatures(batch, pooling: pooling)
        return output(dropout(dense(dropout(pooled)).tanh()))
    }
}
