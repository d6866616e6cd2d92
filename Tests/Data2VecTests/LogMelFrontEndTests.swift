// The log-mel front end (Data2Vec/Speech/LogMelFeatureEncoder.swift), fine-tuning's channel masking and frozen
// start (Speech/SpeechRecognizer.swift), and a clip's encoding against its batch.
import Autograd
@testable import Data2Vec
import Datasets
import NN
import Testing

@Suite("Log-mel front end and fine-tuning")
struct LogMelFrontEndTests {
    static func model(_ features: SpeechFeatures, seed: UInt64 = 1) -> SpeechBackbone {
        var rng = RandomGenerator(seed: seed)
        var frontEnd = SpeechFrontEndConfiguration(dimension: 8)
        frontEnd.features = features
        frontEnd.positionGroups = 2
        frontEnd.positionKernel = 5
        let encoder = TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .postLN, inputLayerNorm: true)
        return SpeechBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng)
    }

    /// Frames of 25 ms every 10 ms: floor((L - 200) / 80) + 1, and they are the filterbank's own values.
    @Test func framesAreTheFilterbanksLogMelEnergies() {
        var rng = RandomGenerator(seed: 2)
        let encoder = LogMelFeatureEncoder(spectrogram: LogMelSpectrogram(), dimension: 8, using: &rng)
        #expect(encoder.hop == 80 && encoder.receptiveField == 200)
        #expect(encoder.frameCount(samples: 199) == 0 && encoder.frameCount(samples: 200) == 1 && encoder.frameCount(samples: 3200) == 38)
        let clip = (0..<1000).map { _ in Float(rng.normal()) }
        let frames = encoder.frames(Tensor(shape: [1, 1000], clip))
        let direct = LogMelSpectrogram()(clip)
        #expect(frames.shape == [1, 11, 40] && frames.scalars == direct.scalars)
        #expect(encoder.namedParameters.map(\.name) == ["outputNorm.weight", "outputNorm.bias", "projection.weight", "projection.bias"])
    }

    /// A clip's encoding does not depend on the batch it is in: alone, or padded beside a longer clip.
    @Test(arguments: SpeechFeatures.allCases) func aClipsEncodingDoesNotDependOnItsBatch(_ features: SpeechFeatures) {
        let backbone = LogMelFrontEndTests.model(features)
        backbone.eval()
        var rng = RandomGenerator(seed: 3)
        let short = (0..<1200).map { _ in Float(rng.normal()) }, long = (0..<2600).map { _ in Float(rng.normal()) }
        let (alone, aloneLengths) = Tensor.withoutGradients { backbone.encode(AudioBatch([short]), frozenCNN: false) }
        let (together, lengths) = Tensor.withoutGradients { backbone.encode(AudioBatch([long, short]), frozenCNN: false) }
        #expect(lengths[1] == aloneLengths[0])
        var worst: Float = 0
        for t in 0..<aloneLengths[0] { for c in 0..<8 { worst = max(worst, abs(alone.output[0, t, c] - together.output[1, t, c])) } }
        #expect(worst < 1e-4, "\(features): differs by \(worst)")
    }

    /// Channel masking zeroes the masked channels of every frame before the positions (checked without them).
    @Test func channelMaskingZeroesChannelsInEveryFrame() {
        var rng = RandomGenerator(seed: 4)
        var configuration = SpeechFrontEndConfiguration(dimension: 8)
        configuration.features = .logmel
        configuration.positionDepth = 0
        configuration.positionGroups = 1
        let frontEnd = SpeechFrontEnd(configuration, using: &rng)
        let batch = AudioBatch([(0..<1600).map { _ in Float(rng.normal()) }])
        let channels = Mask([[false, true, true, false, false, false, true, false]])
        let (input, _) = Tensor.withoutGradients { frontEnd.encoderInput(batch, channelMask: channels) }
        let (plain, _) = Tensor.withoutGradients { frontEnd.encoderInput(batch) }
        for t in 0..<input.shape[1] {
            for c in 0..<8 { #expect(input[0, t, c] == (channels.isMasked[0][c] ? 0 : plain[0, t, c])) }
        }
    }

    /// freeze_finetune_updates: with the backbone frozen only the output layer gets gradients.
    @Test func aFrozenBackboneLeavesOnlyTheOutputLayerToLearn() {
        var rng = RandomGenerator(seed: 5)
        let recognizer = SpeechRecognizer(backbone: LogMelFrontEndTests.model(.logmel), symbols: 11, framesPerStep: 2, using: &rng)
        let batch = AudioBatch([(0..<2400).map { _ in Float(rng.normal()) }])
        for frozen in [true, false] {
            recognizer.zeroGradients()
            let (logits, lengths) = recognizer(batch, frozenCNN: false, frozenBackbone: frozen)
            Tensor.ctcLoss(logits: logits, inputLengths: lengths, targets: [[3, 4]]).backward()
            let learning = recognizer.namedParameters.filter { $0.tensor.grad != nil }.map(\.name)
            if frozen { #expect(learning == ["head.weight", "head.bias"]) } else { #expect(learning.count > 10 && !learning.contains("backbone.frontEnd.maskEmbedding")) }  // no time mask: no gradient for the mask embedding
        }
    }
}
