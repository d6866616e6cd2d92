// The speech front end of data2vec (fairseq `examples/data2vec/models/data2vec_audio.py`, `forward`):
//
//   features = FeatureEncoder(waveform)                  [B, T, D], computed once, shared by both views
//   student  = positions(features with the mask embedding at span-masked frames)
//   teacher  = positions(features)                       no graph
//
// As in fairseq, the teacher is an EMA of the Transformer only (`ema_transformer_only`): the CNN, the
// projection and the mask embedding are the student's. The convolutional positional encoder is shared too:
// fairseq keeps it inside the encoder but lists its weights in the EMA's skip keys, so it copies them into
// the teacher at every step (`ema_layers_only`), which is the same as sharing; here it sits in the front
// end, shared by construction. The encoder's input LayerNorm (`encoder.layer_norm`) is averaged, as in
// fairseq: it is the `inputNorm` of the post-LN `TransformerEncoder`.
import Autograd
import Datasets
import NN

/// What makes frames of the waveform.
public enum SpeechFeatures: String, Sendable, Equatable, CaseIterable {
    /// wav2vec 2.0's CNN, learned (`SpeechFeatureEncoder`): the paper's front end.
    case waveform
    /// 40 log-mel energies every 10 ms, fixed (`LogMelFeatureEncoder`): data2vec for keyword spotting.
    case logmel
}

/// The sizes and the masking of the speech front end.
public struct SpeechFrontEndConfiguration: Sendable, Equatable {
    /// The frames: the CNN of `convolutions` or log-mel energies.
    public var features = SpeechFeatures.waveform
    /// The CNN (see `SpeechFeatureEncoder`): 10 ms frames at 8 kHz.
    public var convolutions = [ConvolutionLayer(channels: 64, kernel: 10, stride: 5)]
        + [ConvolutionLayer](repeating: ConvolutionLayer(channels: 64, kernel: 3, stride: 2), count: 3)
        + [ConvolutionLayer(channels: 64, kernel: 2, stride: 2)]
    /// D, the encoder's width.
    public var dimension: Int
    /// The convolutional positions: depth, odd kernel, groups (data2vec: 5, 19, 16 on 20 ms frames).
    public var positionDepth = 3
    /// The positional convolutions' kernel (odd).
    public var positionKernel = 9
    /// Their groups (D must be divisible by it).
    public var positionGroups = 8
    /// Span masking (`mask_prob`, `mask_length` 10 frames of 20 ms = 200 ms; here 20 frames of 10 ms).
    public var masking = SpanMasking(probability: 0.65, spanLength: 20)

    /// The defaults of chapter 06 for a width of `dimension`.
    public init(dimension: Int) { self.dimension = dimension }

    /// Samples one frame sees: a clip shorter than this gives no frame.
    public var receptiveField: Int {
        switch features {
        case .waveform: SpeechFeatureEncoder.receptiveField(of: convolutions)
        case .logmel: LogMelSpectrogram().windowLength
        }
    }
}

/// Waveforms -> the student's and the teacher's encoder inputs, with span masking over the valid frames.
public final class SpeechFrontEnd: ConfiguredFrontEnd {
    /// What one batch of this modality is.
    public typealias Batch = AudioBatch

    /// The sizes and masking.
    public let configuration: SpeechFrontEndConfiguration
    /// The CNN or the log-mel filterbank, and the projection to D.
    public let featureEncoder: any SpeechFeatureExtractor
    /// wav2vec 2.0 / data2vec `mask_emb`: uniform [0, 1) at initialization.
    public let maskEmbedding: Tensor
    /// The convolutional positional encoder.
    public let positions: ConvolutionalPositions
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A freshly initialized front end.
    public init(_ configuration: SpeechFrontEndConfiguration, using rng: inout RandomGenerator) {
        let c = configuration
        self.configuration = c
        switch c.features {
        case .waveform: featureEncoder = SpeechFeatureEncoder(layers: c.convolutions, dimension: c.dimension, using: &rng)
        case .logmel: featureEncoder = LogMelFeatureEncoder(spectrogram: LogMelSpectrogram(), dimension: c.dimension, using: &rng)
        }
        maskEmbedding = Tensor.uniform([c.dimension], using: &rng, requiresGradient: true)
        positions = ConvolutionalPositions(dimension: c.dimension, depth: c.positionDepth, kernel: c.positionKernel,
                                           groups: c.positionGroups, using: &rng)
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [("maskEmbedding", maskEmbedding)] }
    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("featureEncoder", featureEncoder), ("positions", positions)] }

    /// Frames per clip of the batch: the CNN's output-length formula applied to each clip's length.
    public func frameLengths(_ batch: AudioBatch) -> [Int] { batch.lengths.map { featureEncoder.frameCount(samples: $0) } }

    /// Span masks over each clip's valid frames; the student's view has the mask embedding there.
    public func inputs(for batch: AudioBatch, using rng: inout RandomGenerator) -> Data2VecInputs {
        let features = featureEncoder(batch.samples)
        let lengths = frameLengths(batch)
        let mask = configuration.masking(batchSize: lengths.count, length: features.shape[1], validLengths: lengths, using: &rng)
        let student = positions(Tensor.where(mask.tensor, maskEmbedding, features), validLengths: lengths)
        let teacher = Tensor.withoutGradients { positions(features.detached(), validLengths: lengths) }
        return Data2VecInputs(student: student, teacher: teacher, mask: mask, validLengths: lengths)
    }

    /// The whole batch as the encoder's input [B, T, D], and the frames per clip.
    public func unmaskedInput(_ batch: AudioBatch) -> (input: Tensor, validLengths: [Int]?) {
        let (input, lengths) = encoderInput(batch)
        return (input, lengths)
    }

    /// The encoder input for downstream use, [B, T, D], and the frames per clip. With `frozenCNN`, the
    /// convolutions run without a graph (only the projection after them is trained). With `mask`, the masked
    /// frames get the mask embedding, and with `channelMask` (B rows of D) the masked channels are zero in
    /// every frame: wav2vec 2.0 fine-tunes with both (`apply_mask`, a form of SpecAugment).
    public func encoderInput(_ batch: AudioBatch, frozenCNN: Bool = false, mask: Mask? = nil, channelMask: Mask? = nil)
        -> (input: Tensor, validLengths: [Int]) {
        let frames = frozenCNN ? Tensor.withoutGradients { featureEncoder.frames(batch.samples) } : featureEncoder.frames(batch.samples)
        let features = featureEncoder.projection(featureEncoder.outputNorm(frames))
        let lengths = frameLengths(batch)
        var masked = mask.map { Tensor.where($0.tensor, maskEmbedding, features) } ?? features
        if let channelMask {
            let (b, d) = (masked.shape[0], masked.shape[2])
            require(channelMask.batchSize == b && channelMask.length == d, "SpeechFrontEnd: a channel mask must be [\(b), \(d)]")
            masked = masked * Tensor(shape: [b, 1, d], channelMask.isMasked.flatMap { $0.map { $0 ? Float(0) : 1 } })
        }
        return (positions(masked, validLengths: lengths), lengths)
    }
}
