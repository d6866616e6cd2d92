// Log-mel filterbank energies: the classical speech features (Davis and Mermelstein, 1980), here as the
// baseline a learned encoder must beat.
//
//   frames    the waveform cut into windows of `windowLength` samples every `hop` samples, each multiplied
//             by a Hann window;
//   spectrum  |DFT|^2 of each frame, as one matrix product: frames [N, W] x [cos | sin] basis [W, 2F],
//             F = W / 2 + 1 frequencies k * sampleRate / W (k = 0 ... W/2);
//   mel       triangular filters equally spaced on the mel scale m = 2595 log10(1 + f / 700), each rising
//             from the previous filter's centre to its own and falling to the next one's;
//   log       log(energy + 1e-6).
import Autograd
import Foundation

/// A log-mel filterbank for one sample rate and frame geometry. Build it once; apply it to many clips.
public struct LogMelSpectrogram: Sendable {
    /// Samples per second.
    public let sampleRate: Int
    /// Samples per frame (the DFT size).
    public let windowLength: Int
    /// Samples between frames.
    public let hop: Int
    /// Mel bands.
    public let bandCount: Int
    /// [W, 2F]: column k is cos(2 pi k n / W) for n < W, column F + k the sine (times the Hann window).
    let basis: [Float]
    /// [F, bands]: the triangular mel filters.
    public let filters: [Float]

    /// - Parameters: at 8 kHz, windows of 200 samples (25 ms) every 80 (10 ms) and 40 bands are the usual choice.
    public init(sampleRate: Int = 8000, windowLength: Int = 200, hop: Int = 80, bandCount: Int = 40) {
        require(windowLength >= 2 && hop >= 1 && bandCount >= 1, "LogMelSpectrogram: bad geometry")
        self.sampleRate = sampleRate
        self.windowLength = windowLength
        self.hop = hop
        self.bandCount = bandCount
        let w = windowLength, f = windowLength / 2 + 1
        var basis = [Float](repeating: 0, count: w * 2 * f)
        for n in 0..<w {
            let hann = 0.5 - 0.5 * cos(2 * Double.pi * Double(n) / Double(w))  // periodic Hann (torch.hann_window)
            for k in 0..<f {
                let angle = 2 * Double.pi * Double(k * n) / Double(w)
                basis[n * 2 * f + k] = Float(hann * cos(angle))
                basis[n * 2 * f + f + k] = Float(-hann * sin(angle))
            }
        }
        self.basis = basis
        filters = LogMelSpectrogram.melFilters(frequencies: f, sampleRate: sampleRate, windowLength: w, bands: bandCount)
    }

    static func mel(_ hertz: Double) -> Double { 2595 * log10(1 + hertz / 700) }
    static func hertz(_ mel: Double) -> Double { 700 * (pow(10, mel / 2595) - 1) }

    /// Triangular filters [frequencies, bands] with centres equally spaced in mel between 0 and sampleRate / 2.
    static func melFilters(frequencies: Int, sampleRate: Int, windowLength: Int, bands: Int) -> [Float] {
        let top = mel(Double(sampleRate) / 2)
        let edges = (0...(bands + 1)).map { hertz(top * Double($0) / Double(bands + 1)) }  // bands + 2 edge frequencies
        var filters = [Float](repeating: 0, count: frequencies * bands)
        for k in 0..<frequencies {
            let frequency = Double(k * sampleRate) / Double(windowLength)
            for band in 0..<bands {
                let (low, centre, high) = (edges[band], edges[band + 1], edges[band + 2])
                let weight = frequency <= centre ? (frequency - low) / (centre - low) : (high - frequency) / (high - centre)
                filters[k * bands + band] = Float(max(0, weight))
            }
        }
        return filters
    }

    /// The number of frames of a clip of `samples` samples (0 when shorter than one window).
    public func frameCount(samples: Int) -> Int { samples < windowLength ? 0 : (samples - windowLength) / hop + 1 }

    /// |DFT|^2 of each frame: [frames, W / 2 + 1].
    public func powerSpectrum(_ samples: [Float]) -> Tensor {
        let n = frameCount(samples: samples.count), w = windowLength, f = w / 2 + 1
        guard n > 0 else { return Tensor.zeros([0, f]) }
        var frames = [Float](repeating: 0, count: n * w)
        for i in 0..<n { for j in 0..<w { frames[i * w + j] = samples[i * hop + j] } }
        var spectrum = [Float](repeating: 0, count: n * 2 * f)
        BLAS.sgemm(transposeA: false, transposeB: false, m: n, n: 2 * f, k: w, a: frames, lda: w, b: basis, ldb: 2 * f,
                   beta: 0, c: &spectrum, ldc: 2 * f)
        var power = [Float](repeating: 0, count: n * f)
        for i in 0..<n { for k in 0..<f { power[i * f + k] = spectrum[i * 2 * f + k] * spectrum[i * 2 * f + k] + spectrum[i * 2 * f + f + k] * spectrum[i * 2 * f + f + k] } }
        return Tensor(shape: [n, f], power)
    }

    /// log(mel energies + 1e-6) of each frame: [frames, bands].
    public func callAsFunction(_ samples: [Float]) -> Tensor {
        let power = powerSpectrum(samples)
        let (n, f) = (power.shape[0], power.shape[1])
        guard n > 0 else { return Tensor.zeros([0, bandCount]) }
        var energies = [Float](repeating: 0, count: n * bandCount)
        BLAS.sgemm(transposeA: false, transposeB: false, m: n, n: bandCount, k: f, a: power.storage.pointer, lda: f, b: filters,
                   ldb: bandCount, beta: 0, c: &energies, ldc: bandCount)
        return Tensor(shape: [n, bandCount], energies.map { log($0 + 1e-6) })
    }
}
