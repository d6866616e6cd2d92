// A log-mel front end in place of wav2vec 2.0's CNN: the waveform becomes 40 log-mel filterbank energies
// every 10 ms (25 ms windows, Sources/Datasets/LogMelSpectrogram.swift), a fixed computation with nothing to
// learn, and then the same `layer_norm` + `post_extract_proj` to D as after the CNN:
//
//   waveform [B, L] -> log-mel [B, T, 40] (no graph) -> LayerNorm(40) -> Linear(40, D) -> [B, T, D]
//
// This is how data2vec is applied to keyword spotting by Bovbjerg & Tan (2022, "Improving label-deficient
// keyword spotting through self-supervised pretraining", github.com/HolgerBovbjerg/data2vec-KWS: 40 mel
// bands, 10 ms hop, data2vec on the Transformer only) and by EAT (Chen et al., 2024) on spectrogram patches.
// The paper's speech model learns its features from the waveform (section 3.1); with minutes of audio and a
// thousand updates the CNN must learn a filterbank before the Transformer has anything to model, and this
// front end removes that step. Span masking, positions, encoder, teacher and targets stay as they are.
import Autograd
import Datasets
import NN

/// What turns waveforms into frames for the speech front end: wav2vec 2.0's CNN or log-mel energies.
public protocol SpeechFeatureExtractor: Module {
    /// Frames made of a clip of `samples` samples (0 when it is shorter than one frame's field).
    func frameCount(samples: Int) -> Int
    /// Samples between two frames.
    var hop: Int { get }
    /// Samples one frame sees.
    var receptiveField: Int { get }
    /// waveforms [B, L] -> frames [B, T, C] before the projection (for plots and probes).
    func frames(_ waveforms: Tensor) -> Tensor
    /// `layer_norm` over the C channels of each frame.
    var outputNorm: LayerNorm { get }
    /// `post_extract_proj`: Linear(C, D).
    var projection: Linear { get }
}

extension SpeechFeatureExtractor {
    /// waveforms [B, L] -> features [B, T, D].
    public func callAsFunction(_ waveforms: Tensor) -> Tensor { projection(outputNorm(frames(waveforms))) }
}

/// Log-mel energies of each frame, normalized and projected to D.
public final class LogMelFeatureEncoder: SpeechFeatureExtractor {
    /// The filterbank (40 bands, windows of 25 ms every 10 ms at 8 kHz).
    public let spectrogram: LogMelSpectrogram
    /// LayerNorm over the bands of each frame.
    public let outputNorm: LayerNorm
    /// Linear(bands, D).
    public let projection: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - spectrogram: the filterbank; `dimension`: D.
    public init(spectrogram: LogMelSpectrogram, dimension: Int, using rng: inout RandomGenerator) {
        self.spectrogram = spectrogram
        outputNorm = LayerNorm(spectrogram.bandCount)
        projection = Linear(spectrogram.bandCount, dimension, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("outputNorm", outputNorm), ("projection", projection)] }

    /// floor((L - window) / hop) + 1 frames, 0 below one window.
    public func frameCount(samples: Int) -> Int { spectrogram.frameCount(samples: samples) }
    /// Samples between two frames.
    public var hop: Int { spectrogram.hop }
    /// Samples one frame sees: one window.
    public var receptiveField: Int { spectrogram.windowLength }

    /// waveforms [B, L] -> log-mel energies [B, T, bands], computed without a graph. Frames past a clip's
    /// length see its zero padding; the front end masks them out by the clip's frame count.
    public func frames(_ waveforms: Tensor) -> Tensor {
        require(waveforms.rank == 2, "LogMelFeatureEncoder: waveforms must be [B, L], got \(waveforms.shape)")
        require(waveforms.shape[1] >= receptiveField,
                "LogMelFeatureEncoder: clips of \(waveforms.shape[1]) samples are shorter than one window of \(receptiveField) samples")
        let (b, l) = (waveforms.shape[0], waveforms.shape[1])
        let rows = (0..<b).map { row in spectrogram(Array(waveforms.storage.buffer[(row * l)..<((row + 1) * l)])) }
        return Tensor.stack(rows, along: 0)
    }
}
