// Chapter 06, section 1: spoken digits as sequences of 10 ms frames, and the spans the student does not hear.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation
import Plot

/// The clips and which of them train and test.
struct SpeechData {
    var digits: SpokenDigits
    var train: [Int]
    var test: [Int]
    /// How the split was made, for the prose.
    var splitDescription: String
}

extension Chapter06 {
    func loadSpeech(_ chapter: Chapter, _ config: SpeechConfig) throws -> SpeechData {
        chapter.section("1. Spoken digits as sequences of frames")
        let digits = try SpokenDigits(directory: URL(fileURLWithPath: options.dataDir))
        let heldOut = testSpeakers.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        var (train, test) = try digits.split(testSpeakers: heldOut)
        // Clips the CNN cannot make one frame of are left out, and said; so are silent and overlong clips.
        let shortest = config.frontEnd.receptiveField
        let tooShort = Set((train + test).filter { digits.clips[$0].count < shortest })
        if !tooShort.isEmpty {
            print("  note: \(tooShort.count) clip\(tooShort.count == 1 ? " is" : "s are") shorter than one frame (\(shortest) samples, "
                  + "\(shortest * 1000 / SpokenDigits.sampleRate) ms) and left out: clips \(tooShort.sorted().prefix(10).map(String.init).joined(separator: ", "))\(tooShort.count > 10 ? ", ..." : "")")
            (train, test) = (train.filter { !tooShort.contains($0) }, test.filter { !tooShort.contains($0) })
            guard !train.isEmpty, !test.isEmpty else {
                throw ChapterError("\(options.dataDir)/speech: after leaving out the clips shorter than one frame, the \(train.isEmpty ? "training" : "test") split is empty")
            }
        }
        if !digits.silentClips.isEmpty {
            print("  note: \(digits.silentClips.count) clip\(digits.silentClips.count == 1 ? " is" : "s are") silent (every sample 0); they stay, as silence")
        }
        if !digits.croppedClips.isEmpty {
            print("  note: \(digits.croppedClips.count) clip\(digits.croppedClips.count == 1 ? " was" : "s were") longer than "
                  + "\(SpokenDigits.maximumSamples / SpokenDigits.sampleRate) s and cut to \(digits.croppedClips.count == 1 ? "its" : "their") first \(SpokenDigits.maximumSamples / SpokenDigits.sampleRate) s (fairseq's max_sample_size)")
        }
        var description = heldOut.map { "every clip of \($0.joined(separator: ", ")) (never heard in training)" } ?? "takes 0-4 of every speaker (FSDD's convention)"
        if validation {
            // The choices of this chapter are made here: the test clips stay unseen.
            (train, test) = (train.filter { !(5..<10).contains(digits.takes[$0]) }, train.filter { (5..<10).contains(digits.takes[$0]) })
            guard !train.isEmpty, !test.isEmpty else { throw ChapterError("--validation: the training clips have no takes 5-9 to validate on, or nothing else") }
            description = "validation: takes 5-9 of the training speakers (held out of the training clips; the test clips are not read)"
        }
        if options.quick { (train, test) = (Array(train.prefix(200)), Array(test.prefix(60))) }
        let seconds = (train + test).map { Double(digits.clips[$0].count) / Double(SpokenDigits.sampleRate) }
        print(String(format: "  %d training and %d test clips; test set: %@; clip length %.2f-%.2f s (median %.2f s)", train.count, test.count,
                     description, seconds.min() ?? 0, seconds.max() ?? 0, seconds.sorted()[seconds.count / 2]))
        var rng = RandomGenerator(seed: options.seed.derived("audio figure"))
        let frontEnd = SpeechFrontEnd(config.frontEnd, using: &rng)
        let encoder = frontEnd.featureEncoder
        chapter.say("""
            The Free Spoken Digit Dataset: \(digits.speakerNames.count) speakers saying each digit 50 times, at \
            8 kHz. Each clip is normalized to zero mean and unit variance (fairseq's `normalize: true`), because the \
            speakers' loudness differs about 15-fold; every method below, log-mel statistics included, reads the \
            normalized clips. \(frameDescription(encoder, config)) A LayerNorm and a Linear layer project the frames to D = \
            \(config.frontEnd.dimension); then \(config.frontEnd.positionDepth) grouped convolutions (kernel \
            \(config.frontEnd.positionKernel), \(config.frontEnd.positionGroups) groups) add relative positions. Span \
            masking (fairseq's compute_mask_indices) starts a span of \(config.frontEnd.masking.spanLength) frames \
            (\(config.frontEnd.masking.spanLength * encoder.hop * 1000 / SpokenDigits.sampleRate) ms, the paper's span \
            duration) at a frame with probability p / l, p = \(config.frontEnd.masking.probability). Batches pad clips \
            to the longest of the batch, with clips of similar length batched together, and the padding is carried \
            through the front end's length formula into the masks, the attention and the targets; fairseq instead crops \
            each batch to its shortest clip, which here would throw away much of the audio (lengths differ 4-fold).
            """)
        // One clip, its (untrained) CNN feature map, and a span mask over its frames.
        let example = train.first!
        let batch = digits.batch([example], using: &rng)
        let frames = Tensor.withoutGradients { encoder.frames(batch.samples) }  // [1, T, C]
        let (t, c) = (frames.shape[1], frames.shape[2])
        let mask = config.frontEnd.masking(batchSize: 1, length: t, using: &rng)
        print("  example: digit \(digits.digits[example]) of \(digits.speakerNames[digits.speakers[example]] ?? "?"), \(batch.lengths[0]) samples -> \(t) frames, \(mask.maskedCounts[0]) masked")
        chapter.check(t == encoder.frameCount(samples: batch.lengths[0]),
                      config.frontEnd.features == .waveform ? "the CNN's output length follows floor((L - k) / s) + 1 layer by layer (\(t) frames)"
                                                            : "the filterbank makes floor((L - 200) / 80) + 1 frames (\(t) frames)")
        chapter.figure("06-waveform-features-mask.png") { path throws(PlotError) in
            let samples = digits.clips[example]
            var wave = Figure(title: "Digit \(digits.digits[example]) (\(digits.speakerNames[digits.speakers[example]] ?? "?")), normalized waveform",
                              xLabel: "time (ms)", yLabel: "amplitude")
            wave.add(.line(x: samples.indices.map { Double($0) * 1000 / Double(SpokenDigits.sampleRate) }, y: samples.map(Double.init), title: "waveform", width: 1))
            wave.xRange = 0...(Double(samples.count) * 1000 / Double(SpokenDigits.sampleRate))
            wave.extraSettings = ["unset key"]
            var map = Figure(title: "\(config.frontEnd.features == .waveform ? "CNN output before training" : "log-mel energies"): \(c) channels x \(t) frames of \(encoder.hop * 1000 / SpokenDigits.sampleRate) ms",
                             xLabel: "frame", yLabel: "channel")
            map.add(.heatmap(values: (0..<c).map { ch in (0..<t).map { Double(frames[0, $0, ch]) } }, xRange: 0...Double(t - 1), yRange: 0...Double(c - 1)))
            map.extraSettings = ["unset key", "unset colorbox"]
            map.xRange = -0.5...(Double(t) - 0.5)
            map.yRange = -0.5...(Double(c) - 0.5)
            var spans = Figure(title: "A span mask over the frames (red: the student hears the mask embedding there)", xLabel: "frame", yLabel: "")
            spans.add(.heatmap(values: [mask.isMasked[0].map { $0 ? 1.0 : 0.0 }, mask.isMasked[0].map { $0 ? 1.0 : 0.0 }],
                               xRange: 0...Double(t - 1), yRange: 0...1))
            spans.extraSettings = ["unset key", "unset colorbox", "unset ytics", "set cbrange [0:1]"]
            spans.xRange = -0.5...(Double(t) - 0.5)
            try Figure.renderStacked([wave, map, spans], heights: [1, 1.4, 0.45], to: path, height: 850)
        }
        return SpeechData(digits: digits, train: train, test: test, splitDescription: description)
    }

    /// The prose on how frames are made, for the front end of this run.
    func frameDescription(_ encoder: any SpeechFeatureExtractor, _ config: SpeechConfig) -> String {
        let ms = { (samples: Int) in samples * 1000 / SpokenDigits.sampleRate }
        guard let cnn = encoder as? SpeechFeatureEncoder else {
            return """
                The frames are 40 log-mel filterbank energies of 25 ms windows every \(ms(encoder.hop)) ms \
                (Sources/Data2Vec/Speech/LogMelFeatureEncoder.swift, `--front-end logmel`): a fixed computation, so \
                that pretraining trains the Transformer only, as data2vec for keyword spotting does (Bovbjerg & Tan, \
                2022). The paper's model learns its frames from the waveform with wav2vec 2.0's CNN instead \
                (`--front-end waveform`).
                """
        }
        return """
            The feature encoder is wav2vec 2.0's CNN scaled to 8 kHz \
            (Sources/Data2Vec/Speech/FeatureEncoder.swift): \(cnn.layers.count) convolutions without bias, each \
            followed by a LayerNorm over its \(cnn.layers[0].channels) channels and a GELU; kernels \
            \(cnn.layers.map { String($0.kernel) }.joined(separator: ", ")) and strides \
            \(cnn.layers.map { String($0.stride) }.joined(separator: ", ")) give a frame every \(cnn.hop) samples \
            (\(ms(cnn.hop)) ms) that sees \(cnn.receptiveField) samples (\(ms(cnn.receptiveField)) ms). wav2vec 2.0's \
            CNN has seven layers, kernels (10, 3, 3, 3, 3, 2, 2) and strides (5, 2, 2, 2, 2, 2, 2): a frame every 20 ms \
            that sees 25 ms of 16 kHz audio. This one keeps its first four layers and ends with a kernel of 2, two \
            stride-2 layers fewer: frames twice as frequent, each seeing less, so that a spoken digit of about 0.4 s \
            gives about 40 frames for span masking (`--front-end logmel` reads log-mel energies instead).
            """
    }
}
