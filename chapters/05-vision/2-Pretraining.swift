// Chapter 05, section 2: data2vec pretraining on the unlabelled training images.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Plot

/// What pretraining measured (nothing when the checkpoint was reused).
struct PretrainingResult {
    var metrics: [StepMetrics] = []
    var seconds = 0.0
    var reusedCheckpoint = false
}

extension Chapter05 {
    func pretrainingSection(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, checkpoint: URL) throws -> PretrainingResult {
        chapter.section("2. Pretraining with data2vec")
        var rng = RandomGenerator(seed: options.seed)
        let backbone = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let d2v = config.data2vec, opt = config.pretraining
        chapter.say("""
            The model is the benchmark's vision-tiny: D = \(config.encoder.dimension), \(config.encoder.blockCount) pre-LN \
            blocks of \(config.encoder.headCount) heads, MLP \(config.encoder.feedForwardDimension), \(backbone.parameterCount) \
            parameters in front end and encoder, initialized as data2vec vision does (N(0, 0.02^2) cut at +-0.02, and \
            each block's output projections divided by sqrt(2 i)). Targets: the teacher's \
            \(d2v.targetPoint == .endOfBlock ? "block outputs (end of block, as data2vec vision)" : "FFN outputs (as data2vec speech and text)") \
            of the top K = \(d2v.averageTopKLayers) blocks, each layer-normalized, averaged, normalized again; Smooth L1 \
            with beta \(d2v.lossBeta) at the masked patches. AdamW (peak lr \(opt.peakLearningRate), \
            \(Int(100 * opt.warmupFraction))% warm-up, cosine), batch \(config.batchSize), \(config.pretrainingSteps) steps = \
            \(String(format: "%.1f", Double(config.pretrainingSteps * config.batchSize) / Double(train.count))) epochs. \
            tau rises linearly from \(d2v.emaDecay) to \(d2v.emaEndDecay). The paper keeps 0.9998 for 800 epochs of \
            ImageNet; a teacher that slow averages over about 1 / (1 - tau) = 5,000 steps and would barely move in \
            this run, so the run uses a faster teacher with the same shape of schedule.
            """)
        if reuseCheckpoint {
            chapter.say("--reuse-checkpoint: pretraining skipped; the evaluation reads \(checkpoint.path).")
            return PretrainingResult(reusedCheckpoint: true)
        }
        let trainer = Data2VecTrainer(frontEnd: backbone.frontEnd, student: backbone.encoder, config: d2v, optimization: opt,
                                      totalSteps: config.pretrainingSteps, headInitializer: config.encoder.initializer, using: &rng)
        let progress = ProgressLine("pretrain", total: config.pretrainingSteps)
        var batches = ShuffledBatches(Array(0..<train.count), size: config.batchSize)
        var result = PretrainingResult()
        (result.metrics, result.seconds) = try measure {
            try (1...config.pretrainingSteps).map { step in
                let metrics = trainer.step(train.batch(batches.next(using: &rng)).images, using: &rng)
                try chapter.requireFinite(metrics.loss, "the pretraining loss", step: step)
                progress.update(step: step, ["loss": metrics.loss, "target var": metrics.targetVariance, "pred var": metrics.predictionVariance])
                return metrics
            }
        }
        print("  pretraining took \(formatDuration(result.seconds)) (\(String(format: "%.0f", result.seconds * 1000 / Double(config.pretrainingSteps))) ms per step)")
        try Checkpoint.save(backbone, metadata: ["steps": "\(config.pretrainingSteps)", "seed": "\(options.seed)",
                                                 "target": d2v.targetPoint.rawValue], to: checkpoint)
        print("  checkpoint: \(checkpoint.path) (front end and student encoder; the evaluation reads it back)")

        let steps = result.metrics.indices.map { Double($0 + 1) }
        chapter.figure("05-pretraining.png") { path throws(PlotError) in
            var figure = Figure(title: "data2vec pretraining on MNIST (seed \(options.seed))", xLabel: "step", yLabel: "value")
            figure.add(.line(x: steps, y: movingAverage(result.metrics.map { Double($0.loss) }, window: 25), title: "loss (moving average of 25 steps)"))
            figure.add(.line(x: steps, y: result.metrics.map { Double($0.targetVariance) }, title: "target variance (compute\\_var)"))
            figure.add(.line(x: steps, y: result.metrics.map { Double($0.predictionVariance) }, title: "prediction variance"))
            try figure.render(to: path)
        }
        let afterWarmup = result.metrics.dropFirst(Int(opt.warmupFraction * Float(config.pretrainingSteps)))
        let lowestPrediction = afterWarmup.map(\.predictionVariance).min() ?? 0
        let lowestTarget = afterWarmup.map(\.targetVariance).min() ?? 0
        print(String(format: "  after warm-up: lowest target variance %.3f, lowest prediction variance %.3f; last loss %.4f",
                     lowestTarget, lowestPrediction, result.metrics.last!.loss))
        chapter.say("""
            The loss does not simply fall: the targets move as the teacher learns (fairseq issue 4177 discusses \
            the same shape). What must not happen is collapse, which the variances would show (chapter 04): \
            with layer-normalized targets their variance per channel stays near 1, and the predictions follow.
            """)
        if !options.quick {
            chapter.check(lowestTarget > 0.1 && lowestPrediction > 0.1,
                          String(format: "no collapse: target and prediction variance stay above fairseq's 0.1 floor after warm-up (%.3f, %.3f)", lowestTarget, lowestPrediction))
        }
        return result
    }
}
