// The speech front end: the CNN's length formula, the convolutional positions, padding, and the two views.
import Autograd
@testable import Data2Vec
import Datasets
import NN
import Testing

@Suite("Speech front end")
struct SpeechFrontEndTests {
    @Test func theCNNLengthFormulaMatchesItsOutput() {
        var rng = RandomGenerator(seed: 1)
        let encoder = SpeechFeatureEncoder(layers: SpeechFrontEndConfiguration(dimension: 8).convolutions.map {
            ConvolutionLayer(channels: 4, kernel: $0.kernel, stride: $0.stride)
        }, dimension: 8, using: &rng)
        #expect(encoder.hop == 80 && encoder.receptiveField == 120)  // 10 ms frames seeing 15 ms at 8 kHz
        for samples in [120, 200, 517, 3200] {
            let frames = Tensor.withoutGradients { encoder(Tensor.normal([1, samples], using: &rng)) }
            #expect(frames.shape == [1, encoder.frameCount(samples: samples), 8], "\\(samples) samples")
        }
        #expect(encoder.frameCount(samples: 119) == 0 && encoder.frameCount(samples: 120) == 1)
        #expect(encoder.frameCount(samples: 3200) == 39)
    }

    @Test func positionsKeepTheLengthAndIgnorePadding() {
        var rng = RandomGenerator(seed: 2)
        let positions = ConvolutionalPositions(dimension: 8, depth: 2, kernel: 5, groups: 2, using: &rng)
        let x = Tensor.normal([2, 9, 8], using: &rng)
        let y = Tensor.withoutGradients { positions(x, validLengths: [9, 6]) }
        #expect(y.shape == [2, 9, 8])
        // What sits in the padded frames of sample 1 does not change its valid frames.
        var values = x.scalars
        for t in 6..<9 { for c in 0..<8 { values[(9 + t) * 8 + c] = 100 } }
        let z = Tensor.withoutGradients { positions(Tensor(shape: [2, 9, 8], values), validLengths: [9, 6]) }
        for t in 0..<6 { for c in 0..<8 { #expect(abs(y[1, t, c] - z[1, t, c]) < 1e-5) } }
    }

    @Test func studentAndTeacherViewsDifferOnlyAtMaskedFrames() {
        var rng = RandomGenerator(seed: 3)
        var configuration = SpeechFrontEndConfiguration(dimension: 8)
        configuration.convolutions = configuration.convolutions.map { ConvolutionLayer(channels: 4, kernel: $0.kernel, stride: $0.stride) }
        configuration.positionDepth = 0  // no positions: the two views can be compared frame by frame
        configuration.positionGroups = 1
        configuration.masking = SpanMasking(probability: 0.65, spanLength: 4)
        let frontEnd = SpeechFrontEnd(configuration, using: &rng)
        let batch = AudioBatch([(0..<2400).map { _ in rng.normal() }, (0..<1600).map { _ in rng.normal() }])
        let inputs = frontEnd.inputs(for: batch, using: &rng)
        #expect(inputs.validLengths == [29, 19])
        #expect(inputs.mask.isMasked[1][19...].allSatisfy { !$0 })  // padding is never masked
        #expect(inputs.keyPaddingMask!.scalars.filter { $0 == 1 }.count == 10)
        let (d, mask) = (8, frontEnd.maskEmbedding.scalars)
        for b in 0..<2 { for t in 0..<inputs.validLengths![b] {
            let student = (0..<d).map { inputs.student[b, t, $0] }, teacher = (0..<d).map { inputs.teacher[b, t, $0] }
            if inputs.mask.isMasked[b][t] { #expect(student == mask) } else { #expect(student == teacher) }
        } }
    }

    /// A recognizer whose output reads k frames at once: ceil(T / k) steps, and a clip's steps never read the
    /// frames past its end (what padding holds does not change them).
    @Test func recognizerStepsGroupFramesAndIgnorePadding() {
        var rng = RandomGenerator(seed: 4)
        var frontEnd = SpeechFrontEndConfiguration(dimension: 8)
        frontEnd.convolutions = frontEnd.convolutions.map { ConvolutionLayer(channels: 4, kernel: $0.kernel, stride: $0.stride) }
        frontEnd.positionGroups = 2
        let encoder = TransformerConfiguration(blockCount: 1, dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .postLN,
                                               inputLayerNorm: true)
        let recognizer = SpeechRecognizer(backbone: SpeechBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng), symbols: 11,
                                          framesPerStep: 2, using: &rng)
        recognizer.eval()
        let long = (0..<2400).map { _ in rng.normal() }, short = (0..<1600).map { _ in rng.normal() }  // 29 and 19 frames
        let (logits, lengths) = Tensor.withoutGradients { recognizer(AudioBatch([long, short]), frozenCNN: false) }
        #expect(logits.shape == [2, 15, 11] && lengths == [15, 10])
        // The short clip alone (no padding) gives the same outputs at its 10 steps; its last step reads frame 18 and zeros.
        let (alone, _) = Tensor.withoutGradients { recognizer(AudioBatch([short]), frozenCNN: false) }
        for t in 0..<10 { for c in 0..<11 { #expect(abs(alone[0, t, c] - logits[1, t, c]) < 1e-4) } }
    }

    @Test func meanOverValidPositionsIgnoresPadding() {
        let x = Tensor(shape: [2, 3, 1], [1, 2, 3, 4, 100, 100])
        #expect(meanOverValidPositions(x, validLengths: [3, 1]).scalars == [2, 4])
    }
}
