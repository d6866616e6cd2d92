// The speech recognizer built on the pretrained backbone (wav2vec 2.0's `Wav2VecCtc` in
// fairseq/models/wav2vec/wav2vec2_asr.py: the pretrained encoder, dropout, one Linear layer to the symbols,
// trained with CTC).
//
// One difference: the output layer may read k consecutive frames at once (their D features concatenated),
// so that CTC runs at one step per k frames. wav2vec 2.0's frames are 20 ms; chapter 06's encoder works at
// 10 ms, and with k = 2 CTC steps are 20 ms again: half the blanks to learn between two digits, and a much
// shorter all-blank plateau at the start of training. (Chapter 06 reads one frame per step: with 10% of its
// labelled strings both recognizers did better so on its validation split.)
import Autograd
import Datasets
import NN

extension Backbone where FrontEnd == SpeechFrontEnd {
    /// The encoder's output [B, T, D] for a batch, and the frames per clip, as fine-tuning runs it.
    /// - Parameters:
    ///   - frozenCNN: compute the CNN without a graph (wav2vec 2.0 fine-tuning's `feature_grad_mult: 0`).
    ///   - mask: frames to replace by the mask embedding (fine-tuning's time masking), or nil.
    ///   - channelMask: channels to zero in every frame (fine-tuning's channel masking), B rows of D, or nil.
    public func encode(_ batch: AudioBatch, frozenCNN: Bool, mask: Mask? = nil, channelMask: Mask? = nil, recordBlocks: Bool = false)
        -> (output: EncoderOutput, lengths: [Int]) {
        let (input, lengths) = frontEnd.encoderInput(batch, frozenCNN: frozenCNN, mask: mask, channelMask: channelMask)
        return (encoder(input, keyPaddingMask: paddingMask(lengths, length: input.shape[1]), recordBlocks: recordBlocks), lengths)
    }
}

/// A CTC recognizer: a backbone, dropout, and Linear(k D, symbols) on every k consecutive frames.
public final class SpeechRecognizer: Module {
    /// The encoder (pretrained or not).
    public let backbone: SpeechBackbone
    /// wav2vec 2.0's `final_dropout` before the output layer.
    public let dropout: Dropout
    /// Linear(k D, symbols) on each group of k frames.
    public let head: Linear
    /// k: encoder frames per CTC step (1: one output per frame, as wav2vec 2.0).
    public let framesPerStep: Int
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - symbols: the blank (0) and the labels: 11 for digits.
    ///   - framesPerStep: k, the encoder frames one output reads (concatenated), at least 1.
    public init(backbone: SpeechBackbone, symbols: Int, framesPerStep: Int = 1, dropout: Float = 0, using rng: inout RandomGenerator) {
        require(framesPerStep >= 1, "SpeechRecognizer: framesPerStep must be at least 1, got \(framesPerStep)")
        self.backbone = backbone
        self.framesPerStep = framesPerStep
        self.dropout = Dropout(dropout, using: &rng)
        head = Linear(framesPerStep * backbone.encoder.configuration.dimension, symbols, initializer: .xavierUniform, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("backbone", backbone), ("dropout", dropout), ("head", head)] }

    /// Logits [B, S, symbols], S = ceil(T / k), and the valid steps per clip (ceil(frames / k)). With
    /// `frozenBackbone` the whole backbone runs without a graph and only the output layer learns (wav2vec 2.0's
    /// first `freeze_finetune_updates` updates, `Wav2VecEncoder.forward`); masks and dropout still apply.
    public func callAsFunction(_ batch: AudioBatch, frozenCNN: Bool, mask: Mask? = nil, channelMask: Mask? = nil,
                               frozenBackbone: Bool = false) -> (logits: Tensor, lengths: [Int]) {
        let encode = { self.backbone.encode(batch, frozenCNN: frozenCNN, mask: mask, channelMask: channelMask) }
        let (encoded, lengths) = frozenBackbone ? Tensor.withoutGradients(encode) : encode()
        let k = framesPerStep
        var x = dropout(encoded.output)  // [B, T, D]; without a graph when the backbone is frozen
        guard k > 1 else { return (head(x), lengths) }
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let steps = (t + k - 1) / k
        // Zeros in the padded frames (so a clip's last step never reads another length's padding), and up to a
        // multiple of k; then [B, S k, D] -> [B, S, k D] puts each group of k frames side by side.
        x = zeroPadding(x, validLengths: lengths)
        if steps * k > t { x = Tensor.concatenate([x, Tensor.zeros([b, steps * k - t, d])], along: 1) }
        return (head(x.reshaped([b, steps, k * d])), lengths.map { ($0 + k - 1) / k })
    }
}
