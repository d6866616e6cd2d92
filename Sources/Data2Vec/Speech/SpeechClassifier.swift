// The utterance classifier fine-tuned to read one spoken digit: the pretrained encoder, the mean of its output
// over each clip's valid frames, and one Linear layer to the classes. This is the head of SUPERB's keyword
// spotting and of Hugging Face's `Data2VecAudioForSequenceClassification` (modeling_data2vec_audio.py), less
// the projector that model puts before the pooling (Linear(D, 256) there: at D = 64 it would only add weights).
import Autograd
import Datasets
import NN

/// A clip classifier: a backbone, the mean over valid frames [B, D], dropout and Linear(D, classes).
public final class SpeechClassifier: Module {
    /// The encoder (pretrained or not).
    public let backbone: SpeechBackbone
    /// wav2vec 2.0's `final_dropout` before the output layer.
    public let dropout: Dropout
    /// Linear(D, classes).
    public let head: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A classifier with a fresh head (Xavier-uniform, as the CTC head).
    public init(backbone: SpeechBackbone, classCount: Int, dropout: Float = 0, using rng: inout RandomGenerator) {
        require(classCount >= 2, "SpeechClassifier: classCount must be at least 2, got \(classCount)")
        self.backbone = backbone
        self.dropout = Dropout(dropout, using: &rng)
        head = Linear(backbone.encoder.configuration.dimension, classCount, initializer: .xavierUniform, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("backbone", backbone), ("dropout", dropout), ("head", head)] }

    /// Clips -> logits [B, classes]. `mask` and `channelMask` are fine-tuning's time and channel masking (see
    /// `Backbone.encode`); padded frames never reach the mean.
    public func callAsFunction(_ batch: AudioBatch, frozenCNN: Bool = false, mask: Mask? = nil, channelMask: Mask? = nil) -> Tensor {
        let (encoded, lengths) = backbone.encode(batch, frozenCNN: frozenCNN, mask: mask, channelMask: channelMask)
        return head(dropout(meanOverValidPositions(encoded.output, validLengths: lengths)))
    }
}
