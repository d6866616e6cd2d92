// The training step end to end, on a tiny synthetic problem.
import Autograd
import Foundation
@testable import Data2Vec
import NN
import Optim
import Testing

func tinyTrainer(seed: UInt64 = 0, config: Data2VecConfig? = nil) -> Data2VecTrainer<FeatureSequenceFrontEnd> {
    var rng = RandomGenerator(seed: seed)
    let frontEnd = FeatureSequenceFrontEnd(inputDimension: 6, dimension: 16, maxLength: 20,
                                           masking: SpanMasking(probability: 0.65, spanLength: 3), using: &rng)
    let encoder = TransformerConfiguration(blockCount: 2, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .postLN,
                                           inputLayerNorm: true, dropout: 0.1, attentionDropout: 0.1)
    let config = config ?? Data2VecConfig(averageTopKLayers: 2, layerwiseTargetNorm: .instance, emaAnnealEndStep: 10)
    return Data2VecTrainer(frontEnd: frontEnd, student: TransformerEncoder(encoder, using: &rng), config: config,
                           optimization: AdamWConfiguration(peakLearningRate: 1e-3, warmupFraction: 0, finalFraction: 1),
                           totalSteps: 100, using: &rng)
}

/// Smooth random signals: sums of sinusoids with random frequencies and phases, [B, T, F].
func sinusoids(batch: Int, length: Int, features: Int, using rng: inout RandomGenerator) -> Tensor {
    var values: [Float] = []
    for _ in 0..<batch {
        let frequencies = (0..<features).map { _ in rng.uniform(0.1, 0.6) }, phases = (0..<features).map { _ in rng.uniform(0, 6.28) }
        for t in 0..<length { for f in 0..<features { values.append(Float(sin(Double(frequencies[f]) * Double(t) + Double(phases[f])))) } }
    }
    return Tensor(shape: [batch, length, features], values)
}

@Suite("Training step")
struct TrainerTests {
    @Test func theTeacherNeverReceivesGradientsAndFollowsTheStudent() {
        let trainer = tinyTrainer()
        var rng = RandomGenerator(seed: 1)
        let initial = trainer.student.parameters.map(\.scalars)
        var metrics: [StepMetrics] = []
        for _ in 0..<5 { metrics.append(trainer.step(sinusoids(batch: 4, length: 20, features: 6, using: &rng), using: &rng)) }
        #expect(trainer.teacher.model.parameters.allSatisfy { $0.grad == nil && !$0.requiresGradient })
        // Every student parameter was trained (the gradients are cleared after each optimizer step).
        #expect(zip(trainer.student.parameters, initial).allSatisfy { $0.scalars != $1 && $0.grad == nil })
        #expect(metrics.allSatisfy { $0.loss.isFinite && $0.targetVariance > 0 && $0.predictionVariance > 0 })
        // tau rises from 0.999 toward 0.9999 over 10 updates, and the teacher has moved, but only a little.
        #expect(metrics[0].tau == 0.999 && metrics[4].tau > metrics[0].tau)
        let drift = zip(trainer.student.parameters, trainer.teacher.model.parameters).map { s, t in
            zip(s.scalars, t.scalars).map { abs($0 - $1) }.max()!
        }.max()!
        #expect(drift > 0 && drift < 0.05)
        #expect(trainer.teacher.updateCount == 5)
    }

    @Test func predictionsAndTargetsAreTheMaskedPositionsOnly() {
        let trainer = tinyTrainer()
        var rng = RandomGenerator(seed: 2)
        let (_, prediction, target, inputs) = trainer.forward(sinusoids(batch: 3, length: 20, features: 6, using: &rng), using: &rng)
        let masked = inputs.mask.maskedCounts.reduce(0, +)
        #expect(masked > 0 && masked < 60)
        #expect(prediction.shape == [masked, 16] && target.shape == [masked, 16])
    }

    @Test func theHeadFollowsHeadLayers() {
        var config = Data2VecConfig(averageTopKLayers: 2, layerwiseTargetNorm: .layer, emaAnnealEndStep: 10)
        #expect(tinyTrainer(config: config).head.layers.count == 1)
        config.headLayers = 2
        let head = tinyTrainer(config: config).head
        #expect(head.layers.map(\.weight.shape) == [[32, 16], [16, 32]])  // text's D -> 2D -> D
    }

    @Test func lossGradientReachesOnlyMaskedRows() {
        // The step gathers the student's rows at the masked positions before the head and the loss, so
        // every unmasked row's gradient is exactly zero.
        var rng = RandomGenerator(seed: 3)
        let output = Tensor.normal([2 * 5, 4], using: &rng, requiresGradient: true)
        let mask = Mask([[false, true, true, false, false], [true, false, false, false, true]])
        let head = RegressionHead(dimension: 4, using: &rng)
        let target = Tensor.normal([4, 4], using: &rng)
        Data2VecLoss(beta: 0)(head(output.indexSelect(mask.flatIndices, along: 0)), target).backward()
        let g = output.grad!.scalars
        for row in 0..<10 {
            let norm = g[(row * 4)..<(row * 4 + 4)].map { $0 * $0 }.reduce(0, +)
            #expect(mask.flatIndices.contains(row) ? norm > 0 : norm == 0, "row \(row)")
        }
    }
}
