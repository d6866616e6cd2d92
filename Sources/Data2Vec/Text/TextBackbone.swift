// The part of a text model that chapter 07 pretrains twice, with data2vec and as a masked language model:
// the text front end and the encoder. Checkpoints hold exactly this; fine-tuning starts from it.
import Autograd
import NN

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
        return meanOverValidFrames(x, lengths: batch.lengths)
    }
}
