// Section 5 of chapter 04: representation collapse, measured.
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import NN
import Optim
import Plot

/// Smooth multichannel signals: each sample is a sum of sinusoids with random frequencies and phases,
/// mixed into F channels, plus a little noise. Neighbouring steps are highly correlated, as in speech.
func sinusoidBatch(batch: Int, length: Int, features: Int, using rng: inout RandomGenerator) -> Tensor {
    var values = [Float](repeating: 0, count: batch * length * features)
    for b in 0..<batch {
        for _ in 0..<3 {
            let frequency = rng.uniform(0.05, 0.5), phase = rng.uniform(0, 2 * .pi)
            let weights = (0..<features).map { _ in rng.normal() }
            for t in 0..<length {
                let s = sin(frequency * Float(t) + phase)
                for f in 0..<features { values[(b * length + t) * features + f] += weights[f] * s }
            }
        }
        for i in (b * length * features)..<((b + 1) * length * features) { values[i] += 0.1 * rng.normal() }
    }
    return Tensor(shape: [batch, length, features], values)
}

/// One pretraining run on the synthetic signals; returns the metrics of every step.
struct CollapseRun {
    let name: String
    let layerwise: TargetNormalization
    let tau: (start: Float, end: Float)
    let learningRate: Float
    var initializer: Initializer = .pytorchDefault

    func run(steps: Int, seed: UInt64, progress: Bool) -> [StepMetrics] {
        var rng = RandomGenerator(seed: seed)
        let (dimension, length, features) = (32, 40, 8)
        let frontEnd = FeatureSequenceFrontEnd(inputDimension: features, dimension: dimension, maxLength: length,
                                               masking: SpanMasking(probability: 0.65, spanLength: 5), using: &rng)
        func encoder() -> TransformerEncoder {
            TransformerEncoder(blockCount: 4, dimension: dimension, headCount: 4, feedForwardDimension: 4 * dimension,
                               placement: .postLN, initializer: initializer, using: &rng)
        }
        var config = Data2VecConfig(averageTopKLayers: 4, layerwiseTargetNorm: layerwise, emaAnnealEndStep: steps)
        config.emaDecay = tau.start
        config.emaEndDecay = tau.end
        let trainer = Data2VecTrainer(frontEnd: frontEnd, student: encoder(), teacherCopy: encoder(),
                                      head: RegressionHead(dimension: dimension, using: &rng), config: config,
                                      schedule: WarmupCosineSchedule(peak: learningRate, warmupSteps: steps / 10, totalSteps: steps)) { named in
            AdamW(ParameterGroup.standard(named, weightDecay: 0.01), learningRate: learningRate)
        }
        let line = progress ? ProgressLine("  \(name)", total: steps) : nil
        return (1...steps).map { step in
            let metrics = trainer.step(sinusoidBatch(batch: 16, length: length, features: features, using: &rng), using: &rng)
            line?.update(step: step, ["loss": metrics.loss, "target var": metrics.targetVariance])
            return metrics
        }
    }
}

func collapseExperiment(_ chapter: Chapter) throws {
    chapter.section("5. Representation collapse")
    let steps = chapter.isQuick ? 25 : 600, learningRate: Float = 2e-2
    chapter.say("""
        A teacher-student method can cheat: if student and teacher both map every input to the same vector, \
        the targets are constant and perfectly predictable. The paper (sections 3.3 and 6) names the guards: \
        a slowly moving teacher (tau near 1) and targets normalized per layer. fairseq watches for collapse \
        with `compute_var` (the standard deviation of each channel over the batch's masked positions, averaged \
        over channels) and aborts a run when the targets' falls below 0.1 or the predictions' below 0.01.
        We pretrain the same small model (4 post-LN blocks, D = 32, span masking) on synthetic smooth \
        multichannel signals three times, \(steps) steps at a deliberately high learning rate of \
        \(learningRate) (warm-up then cosine), changing one thing at a time:
          (a) data2vec as specified: instance-normalized targets, tau 0.999 -> 0.9999;
          (b) no target normalization (raw FFN outputs averaged);
          (c) normalized targets, but the teacher is the student itself (tau = 0).
        """)
    let runs = [CollapseRun(name: "(a) data2vec", layerwise: .instance, tau: (0.999, 0.9999), learningRate: learningRate),
                CollapseRun(name: "(b) raw targets", layerwise: .none, tau: (0.999, 0.9999), learningRate: learningRate),
                CollapseRun(name: "(c) tau = 0", layerwise: .instance, tau: (0, 0), learningRate: learningRate)]
    var results: [[StepMetrics]] = []
    for run in runs { results.append(run.run(steps: steps, seed: chapter.options.seed, progress: true)) }
    func tail(_ m: [StepMetrics], _ key: KeyPath<StepMetrics, Float>) -> Float {
        let last = m.suffix(50)
        return last.map { $0[keyPath: key] }.reduce(0, +) / Float(last.count)
    }
    // fairseq's guard checks every update (after a warm-up period) and aborts when a variance is too low:
    // the lowest prediction variance after the first sixth of the run is what it would have reacted to.
    func lowest(_ m: [StepMetrics]) -> Float { m.dropFirst(steps / 6).map(\.predictionVariance).min() ?? 0 }
    print("  run                 loss (last 50)   target var   prediction var   lowest prediction var after step \(steps / 6)")
    for (run, m) in zip(runs, results) {
        print(String(format: "  %-18@  %14.4f   %10.4f   %14.4f   %10.4f", run.name, tail(m, \.loss), tail(m, \.targetVariance),
                     tail(m, \.predictionVariance), lowest(m)))
    }
    for (run, m) in zip(runs, results) { try chapter.requireFinite(tail(m, \.loss), "the loss of run \(run.name)", step: steps) }
    let (a, b, c) = (results[0], results[1], results[2])
    if chapter.isQuick {
        chapter.check(results.allSatisfy { tail($0, \.targetVariance) > 0 }, "all three quick runs finish with finite metrics")
    } else {
        // compute_var has a floor of sqrt(1e-6) = 0.001: a value near it means every prediction is the same vector.
        chapter.check(lowest(c) < 0.002,
                      String(format: "(c) collapses: with tau = 0 the predictions become one constant vector at some point (var %.4f, the floor is 0.001)", lowest(c)))
        chapter.check(lowest(a) > 0.005 && tail(a, \.targetVariance) > 0.1,
                      String(format: "(a) never comes near that floor (lowest %.4f) and its targets keep their variance (%.2f)", lowest(a), tail(a, \.targetVariance)))
        chapter.check(tail(a, \.predictionVariance) > 3 * tail(c, \.predictionVariance),
                      String(format: "at the end (a)'s predictions vary more than 3x as much as (c)'s (%.3f vs %.3f)",
                             tail(a, \.predictionVariance), tail(c, \.predictionVariance)))
        chapter.check(tail(b, \.targetVariance) < tail(a, \.targetVariance) / 3,
                      String(format: "(b) raw targets carry far less variation than normalized ones (%.3f vs %.3f)",
                             tail(b, \.targetVariance), tail(a, \.targetVariance)))
    }
    chapter.say("""
        Reading the numbers: the loss alone would mislead. Run (b) has the lowest loss of all, because its \
        targets hardly vary, so there is little to predict. Run (c) is the collapse the paper warns about: \
        the student's predictions become one constant vector, even though its normalized targets still vary. \
        Only (a) keeps both variances up. This is why every chapter that pretrains logs both.
        How robust is this? The exact course of (c) is chaotic: it collapses, can recover and collapse again, \
        and when it does moves with the seed and with tiny numerical differences. At this deliberately high \
        learning rate even (a) can dip below fairseq's 0.01 for a moment (seed 2: 0.009), but only (c) (and \
        (b)) reach the floor where all predictions are the same vector. The README lists seeds 0, 1 and 2.
        """)
    chapter.figure("04-collapse.png") { path throws(PlotError) in
        var figure = Figure(title: "Collapse monitor (fairseq compute\\_var) over pretraining, lr \(learningRate)",
                            xLabel: "step", yLabel: "variance of targets (thick) and predictions (thin)")
        let x = (1...steps).map(Double.init)
        for (run, m) in zip(runs, results) {
            figure.add(.line(x: x, y: m.map { Double($0.targetVariance) }, title: "\(run.name): targets", width: 3))
            figure.add(.line(x: x, y: m.map { Double($0.predictionVariance) }, title: "\(run.name): predictions", width: 1))
        }
        figure.add(.line(x: [1, Double(steps)], y: [0.01, 0.01], title: "fairseq min\\_pred\\_var", width: 1))
        figure.logScaleY = true
        figure.height = 560
        try figure.render(to: path)
    }
}
