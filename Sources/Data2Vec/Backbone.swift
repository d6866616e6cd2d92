// What data2vec pretrains, for any modality: the modality's front end and the Transformer encoder.
// Checkpoints hold exactly this (parameter names `frontEnd.*` and `encoder.*`), and every downstream model
// (the image classifier, the speech recognizer, the sentence classifier, the masked language model) starts
// from one. The three modalities differ only in the front end's type:
//
//   VisionBackbone = Backbone<ImagePatchFrontEnd>    images [B, 28, 28]  -> 49 patch vectors
//   SpeechBackbone = Backbone<SpeechFrontEnd>        waveforms           -> 10 ms frames
//   TextBackbone   = Backbone<TextFrontEnd>          token ids           -> token vectors
import Autograd
import NN

/// A front end and the encoder it feeds. `encode` runs them on a whole, unmasked batch.
public final class Backbone<FrontEnd: Data2VecFrontEnd>: Module {
    /// The modality's front end (shared with the teacher during pretraining).
    public let frontEnd: FrontEnd
    /// The Transformer.
    public let encoder: TransformerEncoder
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A backbone of these parts.
    public init(frontEnd: FrontEnd, encoder: TransformerEncoder) {
        self.frontEnd = frontEnd
        self.encoder = encoder
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("frontEnd", frontEnd), ("encoder", encoder)] }

    /// The encoder's output for the whole batch, [B, T, D] (and every block's outputs with `recordBlocks`),
    /// with each sample's valid positions (nil when no sample is padded).
    public func encode(_ batch: FrontEnd.Batch, recordBlocks: Bool = false) -> (output: EncoderOutput, validLengths: [Int]?) {
        let (input, validLengths) = frontEnd.unmaskedInput(batch)
        return (encoder(input, keyPaddingMask: paddingMask(validLengths, length: input.shape[1]), recordBlocks: recordBlocks), validLengths)
    }

    /// [B, D]: the last block's output averaged over each sample's valid positions (BEiT's `use_mean_pooling`
    /// reads the raw residual stream the same way; wav2vec 2.0 classifiers average over frames).
    public func pooledFeatures(_ batch: FrontEnd.Batch) -> Tensor {
        let (encoded, validLengths) = encode(batch)
        return meanOverValidPositions(dropLeadingTokens(encoded.output), validLengths: validLengths)
    }

    /// x [B, T, D] without the front end's leading tokens (a CLS token: BEiT's mean pooling, `x[:, 1:].mean(1)`).
    public func dropLeadingTokens(_ x: Tensor) -> Tensor {
        let lead = frontEnd.leadingTokens
        return lead == 0 ? x : x.sliced(lead..<x.shape[1], along: 1)
    }
}

extension Backbone where FrontEnd: ConfiguredFrontEnd {
    /// A freshly initialized backbone of the given sizes.
    public convenience init(frontEnd: FrontEnd.Configuration, encoder: TransformerConfiguration, using rng: inout RandomGenerator) {
        self.init(frontEnd: FrontEnd(frontEnd, using: &rng), encoder: TransformerEncoder(encoder, using: &rng))
    }
}

/// A front end made from one configuration value (the sizes, the masking and the initialization).
public protocol ConfiguredFrontEnd: Data2VecFrontEnd {
    associatedtype Configuration
    /// A freshly initialized front end.
    init(_ configuration: Configuration, using rng: inout RandomGenerator)
}

/// The image backbone of chapter 05.
public typealias VisionBackbone = Backbone<ImagePatchFrontEnd>
/// The speech backbone of chapter 06.
public typealias SpeechBackbone = Backbone<SpeechFrontEnd>
/// The text backbone of chapter 07.
public typealias TextBackbone = Backbone<TextFrontEnd>

/// [B, T] with 1 at the positions past each sample's valid length; nil when every sample fills all T.
public func paddingMask(_ validLengths: [Int]?, length: Int) -> Tensor? {
    guard let validLengths, validLengths.contains(where: { $0 < length }) else { return nil }
    return keyPaddingMask(validLengths, length: length)
}

/// [B, T] with 1 at the frames past each sample's length.
public func keyPaddingMask(_ lengths: [Int], length: Int) -> Tensor {
    Tensor(shape: [lengths.count, length], lengths.flatMap { n in (0..<length).map { $0 >= n ? Float(1) : 0 } })
}

/// x [B, T, D] averaged over the first `validLengths[b]` positions of each sample (all T when nil): [B, D].
public func meanOverValidPositions(_ x: Tensor, validLengths: [Int]?) -> Tensor {
    guard let validLengths else { return x.mean(alongAxes: [1]) }
    let (b, t) = (x.shape[0], x.shape[1])
    let weights = Tensor(shape: [b, t, 1], validLengths.flatMap { n in (0..<t).map { $0 < n ? 1 / Float(max(n, 1)) : 0 } })
    return (x * weights).sum(alongAxes: [1])
}

/// [B, T, D] -> [B, D]: the largest value of each channel over the first `validLengths[b]` positions of each
/// sequence (all positions when `validLengths` is nil). Padded positions are pushed far below any value before
/// the maximum, so they never win; the gradient goes to the position that attains each maximum.
public func maxOverValidPositions(_ x: Tensor, validLengths: [Int]?) -> Tensor {
    guard let validLengths else { return x.max(alongAxis: 1) }
    let (b, t) = (x.shape[0], x.shape[1])
    let offsets = Tensor(shape: [b, t, 1], validLengths.flatMap { n in (0..<t).map { $0 < n ? Float(0) : -1e9 } })
    return (x + offsets).max(alongAxis: 1)
}
