// wav2vec 2.0's feature encoder (`ConvFeatureExtractionModel` in fairseq/models/wav2vec/wav2vec2.py, with
// `extractor_mode: layer_norm` and `conv_bias: False`, as data2vec speech uses it), scaled to 8 kHz audio:
//
//   waveform [B, L] -> for each layer: Conv1d (no bias) -> LayerNorm over the channels of each frame -> GELU
//                   -> [B, T, C]  -> LayerNorm(C) -> Linear(C, D)  (`layer_norm` + `post_extract_proj`)
//
// The paper's 16 kHz model has 7 layers, kernels (10, 3, 3, 3, 3, 2, 2), strides (5, 2, 2, 2, 2, 2, 2): a
// frame every 320 samples (20 ms) seeing 400 samples (25 ms). Here the default has five layers, its first
// four and a fifth of kernel 2: kernels (10, 3, 3, 3, 2), strides (5, 2, 2, 2, 2), two stride-2 layers fewer,
// so a frame every 80 samples, 10 ms at 8 kHz, seeing 120 samples (15 ms). A spoken digit lasts about 0.4 s: 40 frames, enough for span masking with 200 ms spans.
// No padding: T = floor((L - k) / s) + 1 per layer (`_get_feat_extract_output_lengths`).
import Autograd
import NN

/// One convolution of the feature encoder: output channels, kernel size, stride (fairseq's `(dim, k, s)`).
public struct ConvolutionLayer: Sendable, Equatable {
    /// Output channels, kernel size and stride.
    public var channels: Int, kernel: Int, stride: Int
    /// One convolution of the feature encoder.
    public init(channels: Int, kernel: Int, stride: Int) {
        self.channels = channels
        self.kernel = kernel
        self.stride = stride
    }
}

/// The CNN that turns a waveform into feature frames, with the projection to the encoder's width.
public final class SpeechFeatureEncoder: SpeechFeatureExtractor {
    /// The convolutions' sizes, first to last.
    public let layers: [ConvolutionLayer]
    /// Conv1d layers without bias.
    public let convolutions: [Conv1d]
    /// LayerNorm over the channels of each frame, after each convolution (`extractor_mode: layer_norm`).
    public let norms: [LayerNorm]
    /// `layer_norm` on the CNN's output, then `post_extract_proj` to D.
    public let outputNorm: LayerNorm
    /// `post_extract_proj`: Linear(C, D).
    public let projection: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - layers: the convolutions, first to last (input: one channel).
    ///   - dimension: D, the encoder's width.
    public init(layers: [ConvolutionLayer], dimension: Int, using rng: inout RandomGenerator) {
        require(!layers.isEmpty, "SpeechFeatureEncoder: needs at least one convolution")
        self.layers = layers
        var inputChannels = 1
        var convolutions: [Conv1d] = []
        for layer in layers {
            // fairseq: nn.init.kaiming_normal_ on every conv weight, no bias.
            convolutions.append(Conv1d(inputChannels, layer.channels, kernelSize: layer.kernel, stride: layer.stride, bias: false,
                                       initializer: .kaimingNormal, using: &rng))
            inputChannels = layer.channels
        }
        self.convolutions = convolutions
        norms = layers.map { LayerNorm($0.channels) }
        outputNorm = LayerNorm(inputChannels)
        projection = Linear(inputChannels, dimension, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        convolutions.enumerated().map { ("convolutions.\($0.offset)", $0.element as any Module) }
            + norms.enumerated().map { ("norms.\($0.offset)", $0.element as any Module) }
            + [("outputNorm", outputNorm), ("projection", projection)]
    }

    /// The number of frames the CNN makes of `samples` samples (0 when the clip is shorter than its field).
    public func frameCount(samples: Int) -> Int {
        layers.reduce(samples) { length, layer in length < layer.kernel ? 0 : (length - layer.kernel) / layer.stride + 1 }
    }

    /// Samples between two frames (the product of the strides) and samples one frame sees.
    public var hop: Int { layers.reduce(1) { $0 * $1.stride } }
    /// Samples one frame sees.
    public var receptiveField: Int { SpeechFeatureEncoder.receptiveField(of: layers) }

    /// Samples one frame of a stack of `layers` sees: a clip shorter than this gives no frame at all.
    public static func receptiveField(of layers: [ConvolutionLayer]) -> Int {
        var field = 1, jump = 1
        for layer in layers { field += (layer.kernel - 1) * jump; jump *= layer.stride }
        return field
    }

    /// waveforms [B, L] -> the CNN's frames [B, T, C] before the projection (for plots and probes).
    public func frames(_ waveforms: Tensor) -> Tensor {
        require(waveforms.rank == 2, "SpeechFeatureEncoder: waveforms must be [B, L], got \(waveforms.shape)")
        require(waveforms.shape[1] >= receptiveField,
                "SpeechFeatureEncoder: clips of \(waveforms.shape[1]) samples are shorter than one frame's \(receptiveField) samples")
        // Time-major throughout ([B, T, C]): the convolutions read their windows in place and each
        // LayerNorm normalizes the channels of a frame, the last axis (Autograd/Ops+FrameConvolution.swift).
        var x = waveforms.reshaped([waveforms.shape[0], waveforms.shape[1], 1])
        for (convolution, (layer, norm)) in zip(convolutions, zip(layers, norms)) {
            x = norm(x.frameConvolution(weight: convolution.weight, stride: layer.stride)).gelu()
        }
        return x
    }
}
