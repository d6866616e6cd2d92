// Chapter 04, section 5: representation collapse, measured.
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

/// The metrics of every step of each collapse run, with the summaries the chapter checks.
struct CollapseResult {
    var runs: [CollapseRun]
    var metrics: [[StepMetrics]]
    var warmupSteps: Int

    /// The mean of the last 50 steps of run r.
    func tail(_ r: Int, _ key: KeyPath<StepMetrics, Float>) -> Float {
        let last = metrics[r].suffix(50)
        return last.map { $0[keyPath: key] }.reduce(0, +) / Float(last.count)
    }

    /// fairseq's guard checks every update after a warm-up period and aborts when a variance is too low:
    /// the lowest prediction variance after the first sixth of the run is what it would have reacted to.
    func lowest(_ r: Int) -> Float { metrics[r].dropFirst(warmupSteps).map(\.predictionVariance).min() ?? 0 }
}

extension Chapter04 {
    /// One pretraining run on the synthetic signals; returns the metrics of every step.
    func collapseRun(_ run: CollapseRun, _ config: Data2VecChapterConfig, seed: UInt64) -> [StepMetrics] {
        var rng = RandomGenerator(seed: seed)
        let s = config.signal
        let frontEnd = FeatureSequenceFrontEnd(inputDimension: s.features, dimension: config.collapseEncoder.dimension, maxLength: s.length,
                                               masking: config.collapseMasking, using: &rng)
        var d2v = Data2VecConfig(averageTopKLayers: config.topK, layerwiseTargetNorm: run.layerwiseNorm, emaAnnealEndStep: config.collapseSteps)
        d2v.emaDecay = run.tau.start
        d2v.emaEndDecay = run.tau.end
        let trainer = Data2VecTrainer(frontEnd: frontEnd, student: TransformerEncoder(config.collapseEncoder, using: &rng), config: d2v,
                                      optimization: config.collapseOptimizer, totalSteps: config.collapseSteps, using: &rng)
        let line = ProgressLine("  \(run.name)", total: config.collapseSteps)
        return (1...config.collapseSteps).map { step in
            let metrics = trainer.step(sinusoidBatch(batch: s.batch, length: s.length, features: s.features, using: &rng), using: &rng)
            line.update(step: step, ["loss": metrics.loss, "target var": metrics.targetVariance])
            return metrics
        }
    }

    func collapseExperiment(_ chapter: Chapter, _ config: Data2VecChapterConfig) throws -> CollapseResult {
        chapter.section("5. Representation collapse")
        let steps = config.collapseSteps, lr = config.collapseOptimizer.peakLearningRate
        chapter.say("""
            A teacher-student method can cheat: if student and teacher both map every input to the same vector, \
            the targets are constant and perfectly predictable. The paper (sections 3.3 and 6) names the guards: \
            a slowly moving teacher (tau near 1) and targets normalized per block. fairseq watches for collapse \
            with `compute_var` (the standard deviation of each channel over the batch's masked positions, averaged \
            over channels; its floor is sqrt(1e-6) = 0.001, reached when every prediction is the same vector) and \
            aborts a run when the targets' falls below 0.1 or the predictions' below 0.01.
            We pretrain the same small model (\(config.collapseEncoder.blockCount) post-LN blocks with wav2vec 2.0's \
            input LayerNorm, D = \(config.collapseEncoder.dimension), span masking) on synthetic smooth multichannel \
            signals three times, \(steps) steps at a deliberately high learning rate of \(lr) (warm-up then cosine), \
            changing one thing at a time:
              \(config.collapseRuns[0].name): data2vec as specified, \(config.collapseRuns[0].layerwiseNorm.rawValue)-normalized targets, tau \(config.collapseRuns[0].tau.start) -> \(config.collapseRuns[0].tau.end);
              \(config.collapseRuns[1].name): no target normalization (raw FFN outputs averaged);
              \(config.collapseRuns[2].name): normalized targets, with a teacher that follows the student at tau \(config.collapseRuns[2].tau.start).
            """)
        let result = CollapseResult(runs: config.collapseRuns, metrics: config.collapseRuns.map { collapseRun($0, config, seed: chapter.options.seed) },
                                    warmupSteps: steps / 6)
        print("  run                 loss (last 50)   target var   prediction var   lowest prediction var after step \(steps / 6)")
        for (r, run) in result.runs.enumerated() {
            print("  " + run.name.padding(toLength: 18, withPad: " ", startingAt: 0)
                  + String(format: "  %14.4f   %10.4f   %14.4f   %10.4f", result.tail(r, \.loss), result.tail(r, \.targetVariance),
                         result.tail(r, \.predictionVariance), result.lowest(r)))
        }
        for (r, run) in result.runs.enumerated() { try chapter.requireFinite(result.tail(r, \.loss), "the loss of run \(run.name)", step: steps) }
        if chapter.isQuick {
            chapter.check(result.runs.indices.allSatisfy { result.tail($0, \.targetVariance) > 0 }, "all three quick runs finish with finite metrics")
        } else {
            // (c)'s course is chaotic: how close it comes to the floor moves with the seed and with rounding (a
            // different OpenBLAS kernel family); 0.0010-0.0025 in the runs behind README. What holds is that it
            // comes within a few times of the floor, far below anything (a) reaches.
            chapter.check(result.lowest(2) < 0.005 && result.lowest(2) < result.lowest(0) / 5,
                          String(format: "(c) collapses: its predictions come close to one constant vector at some point (var %.4f, the floor is 0.001; (a) never below %.4f)",
                                 result.lowest(2), result.lowest(0)))
            chapter.check(result.lowest(0) > 0.005 && result.tail(0, \.targetVariance) > 0.1,
                          String(format: "(a) never comes near that floor (lowest %.4f) and its targets keep their variance (%.2f)",
                                 result.lowest(0), result.tail(0, \.targetVariance)))
            chapter.check(result.tail(0, \.predictionVariance) > 3 * result.tail(2, \.predictionVariance),
                          String(format: "at the end (a)'s predictions vary more than 3x as much as (c)'s (%.3f vs %.3f)",
                                 result.tail(0, \.predictionVariance), result.tail(2, \.predictionVariance)))
            chapter.check(result.tail(1, \.targetVariance) < result.tail(0, \.targetVariance) / 3,
                          String(format: "(b) raw targets carry far less variation than normalized ones (%.3f vs %.3f)",
                                 result.tail(1, \.targetVariance), result.tail(0, \.targetVariance)))
        }
        if chapter.isQuick {
            chapter.say("(Quick mode: \(steps) steps; too few for any run to settle, so the numbers mean nothing yet.)")
        } else {
        chapter.say(String(format: """
            Reading the numbers: the loss alone would mislead. Run (b) has the lowest loss (%.3f), because its \
            targets hardly vary, so there is little to predict. Run (c) is the collapse the paper warns about: \
            the student's predictions become one constant vector (lowest variance %.4f), even though its normalized \
            targets still vary. Only (a) keeps both variances up (lowest prediction variance %.4f%@). This is why \
            every chapter that pretrains logs both. The exact course of (c) is chaotic: it collapses, can recover \
            and collapse again, and when it does moves with the seed and with tiny numerical differences, so the \
            checks above look at what is stable across seeds (README has seeds 0, 1 and 2).
            """, result.tail(1, \.loss), result.lowest(2), result.lowest(0),
            result.lowest(0) < 0.01 ? ": at this deliberately high learning rate it dips below fairseq's 0.01 once, but stays far from the floor" : ""))
        }
        chapter.figure("04-collapse.png") { path throws(PlotError) in
            var figure = Figure(title: "Collapse monitor (fairseq compute\\_var) over pretraining, lr \(lr), seed \(chapter.options.seed)",
                                xLabel: "step", yLabel: "variance of targets (thick) and predictions (thin)")
            let x = (1...steps).map(Double.init)
            for (run, m) in zip(result.runs, result.metrics) {
                figure.add(.line(x: x, y: m.map { Double($0.targetVariance) }, title: "\(run.name): targets", width: 3))
                figure.add(.line(x: x, y: m.map { Double($0.predictionVariance) }, title: "\(run.name): predictions", width: 1))
            }
            figure.add(.line(x: [1, Double(steps)], y: [0.01, 0.01], title: "fairseq min\\_pred\\_var", width: 1))
            figure.logScaleY = true
            figure.height = 560
            try figure.render(to: path)
        }
        return result
    }
}
