// The clip classifier chapter 06 fine-tunes (Data2Vec/Speech/SpeechClassifier.swift): the mean over a clip's
// valid frames, then one Linear layer; a clip's logits do not depend on its batch; it learns.
import Autograd
@testable import Data2Vec
import Datasets
import Foundation
import NN
import Optim
import Testing

@Suite("Speech classifier")
struct SpeechClassifierTests {
    static func classifier(seed: UInt64 = 5) -> SpeechClassifier {
        var rng = RandomGenerator(seed: seed)
        return SpeechClassifier(backbone: LogMelFrontEndTests.model(.logmel, seed: seed), classCount: 3, using: &rng)
    }

    /// The logits are head(mean of the encoder's output over the valid frames): recomputed by hand, padded
    /// frames left out.
    @Test func logitsAreTheHeadOfTheMeanOverValidFrames() {
        let model = SpeechClassifierTests.classifier()
        model.eval()
        var rng = RandomGenerator(seed: 6)
        let batch = AudioBatch([(0..<2400).map { _ in Float(rng.normal()) }, (0..<1000).map { _ in Float(rng.normal()) }])
        let logits = Tensor.withoutGradients { model(batch) }
        let (encoded, lengths) = Tensor.withoutGradients { model.backbone.encode(batch, frozenCNN: false) }
        #expect(logits.shape == [2, 3] && lengths[1] < lengths[0])
        let w = model.head.weight, b = model.head.bias!  // [classes, D] as PyTorch's Linear, and [classes]
        for row in 0..<2 {
            var mean = [Float](repeating: 0, count: 8)
            for t in 0..<lengths[row] { for c in 0..<8 { mean[c] += encoded.output[row, t, c] / Float(lengths[row]) } }
            for k in 0..<3 {
                let expected = b[k] + (0..<8).map { w[k, $0] * mean[$0] }.reduce(0, +)
                #expect(abs(logits[row, k] - expected) < 1e-4, "row \(row), class \(k): \(logits[row, k]) vs \(expected)")
            }
        }
    }

    /// A short clip gets the same logits alone and padded beside a long one.
    @Test func aClipsLogitsDoNotDependOnItsBatch() {
        let model = SpeechClassifierTests.classifier()
        model.eval()
        var rng = RandomGenerator(seed: 7)
        let short = (0..<1200).map { _ in Float(rng.normal()) }, long = (0..<3000).map { _ in Float(rng.normal()) }
        let alone = Tensor.withoutGradients { model(AudioBatch([short])) }
        let together = Tensor.withoutGradients { model(AudioBatch([long, short])) }
        for k in 0..<3 { #expect(abs(alone[0, k] - together[1, k]) < 1e-4) }
    }

    /// Tiny end to end: three clips of three classes (tones of different pitch) are learned in 60 Adam steps.
    @Test func learnsThreeClips() {
        let model = SpeechClassifierTests.classifier()
        let clips: [[Float]] = [200.0, 700.0, 1500.0].map { (hz: Double) -> [Float] in
            (0..<1600).map { (n: Int) -> Float in Float(sin(2 * Double.pi * hz * Double(n) / 8000)) }
        }
        let optimizer = AdamWConfiguration(peakLearningRate: 3e-3, weightDecay: 0).makeOptimizer(model.namedParameters)
        var first: Float = 0, last: Float = 0
        for step in 0..<60 {
            let loss = Loss.crossEntropy(logits: model(AudioBatch(clips)), labels: [0, 1, 2])
            if step == 0 { first = loss.item }
            last = loss.item
            loss.backward()
            _ = takeStep(optimizer, learningRate: 3e-3, clipNorm: nil)
        }
        model.eval()
        let logits = Tensor.withoutGradients { model(AudioBatch(clips)) }
        #expect(last < 0.2 * first, "loss \(first) -> \(last)")
        for row in 0..<3 { #expect((0..<3).allSatisfy { logits[row, $0] <= logits[row, row] }) }
    }
}
