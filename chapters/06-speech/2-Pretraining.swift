// Chapter 06, section 2: data2vec pretraining on the unlabelled training clips.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import Interop
import NN
import Plot

/// What pretraining measured (nothing when the checkpoint was reused).
struct SpeechPretraining {
    var metrics: [StepMetrics] = []
    var seconds = 0.0
    var reusedCheckpoint = false
}

/// A short pretraining run of another front end, pretrained beside the chapter's own for section 3's comparison.
struct ShortRun {
    var frontEnd: SpeechFrontEndConfiguration
    var checkpoint: URL
    var pretraining: SpeechPretraining
}

/// Endless length-bucketed batches of clip indices: a new bucketing every pass over the clips.
struct SpeechBatches {
    let clips: [Int]
    let lengths: (Int) -> Int
    let size: Int
    private var pending: [[Int]] = []

    init(_ clips: [Int], lengths: @escaping (Int) -> Int, size: Int) {
        self.clips = clips
        self.lengths = lengths
        self.size = size
    }

    mutating func next(using rng: inout RandomGenerator) -> [Int] {
        if pending.isEmpty { pending = lengthBucketedBatches(clips, lengths: lengths, size: size, using: &rng) }
        return pending.removeLast()
    }
}

extension Chapter06 {
    /// Pretrains the encoder on `frontEnd` (the chapter's own, then the compared one) and saves it to `checkpoint`.
    func pretrainingSection(_ chapter: Chapter, _ base: SpeechConfig, frontEnd: SpeechFrontEndConfiguration, data: SpeechData,
                            checkpoint: URL) throws -> SpeechPretraining {
        var config = base
        config.frontEnd = frontEnd
        let isMain = frontEnd.features == base.frontEnd.features
        let kind = frontEnd.features.rawValue
        if isMain { chapter.section("2. Pretraining with data2vec") } else { print("\n  The same pretraining with the \(kind) front end, for section 3's comparison:") }
        var rng = RandomGenerator(seed: isMain ? options.seed.derived("pretraining") : options.seed.derived("pretraining \(kind)"))
        let backbone = SpeechBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let d2v = config.data2vec, e = config.encoder
        if isMain { chapter.say("""
            The encoder: \(e.blockCount) post-LN blocks (D = \(e.dimension), \(e.headCount) heads, FFN \(e.feedForwardDimension)) \
            after wav2vec 2.0's input LayerNorm, \(backbone.parameterCount) parameters with the front end. The student \
            trains with the paper's dropout \(e.dropout), attention dropout \(e.attentionDropout) and layerdrop \(e.layerDrop); \
            the teacher, an EMA of the encoder only (the front end, the mask embedding and the positions are shared), runs \
            without them. Targets (fairseq `data2vec_audio.py`): the FFN outputs of the teacher's top K = \
            \(d2v.averageTopKLayers) blocks, each instance-normalized over the valid frames of its clip, averaged, \
            with no final normalization; the loss is the squared error summed over the D channels, averaged over \
            the masked frames, times 1 / sqrt(D). Adam (0.9, 0.98), the tri-stage schedule to a peak of \
            \(config.pretraining.peakLearningRate), batches of \(config.batchSize) clips, \(config.pretrainingSteps) steps \
            (\(String(format: "%.0f", Double(config.pretrainingSteps * config.batchSize) / Double(data.train.count))) passes \
            over the training clips). tau rises from \(d2v.emaDecay) to \(d2v.emaEndDecay) (the paper: 0.999 -> 0.9999 over \
            30,000 of 400,000 updates; this run is \(400_000 / config.pretrainingSteps) times shorter). The front end is \
            \(kind)\(base.comparedFrontEnd.map { "; the same pretraining follows with the \($0.rawValue) front end, for section 3 to compare" } ?? "").
            """) }
        if reuseCheckpoint {
            chapter.say("--reuse-checkpoint: pretraining skipped; the evaluation reads \(checkpoint.path).")
            return SpeechPretraining(reusedCheckpoint: true)
        }
        let trainer = Data2VecTrainer(frontEnd: backbone.frontEnd, student: backbone.encoder, config: d2v, optimization: config.pretraining,
                                      totalSteps: config.pretrainingSteps, headInitializer: config.encoder.initializer, using: &rng)
        var batches = SpeechBatches(data.train, lengths: { min(data.digits.clips[$0].count, config.maximumSamples) }, size: config.batchSize)
        let progress = ProgressLine("pretrain \(kind)", total: config.pretrainingSteps)
        let provenance = pretrainingRecord(config, data: data)
        var result = SpeechPretraining()
        (result.metrics, result.seconds) = try measure {
            try (1...config.pretrainingSteps).map { step in
                let batch = data.digits.batch(batches.next(using: &rng), maxLength: config.maximumSamples, using: &rng)
                let metrics = trainer.step(batch, using: &rng)
                try chapter.requireFinite(metrics.loss, "the pretraining loss", step: step)
                progress.update(step: step, ["loss": metrics.loss, "target var": metrics.targetVariance, "pred var": metrics.predictionVariance,
                                             "masked": metrics.maskedFraction])
                if config.snapshotSteps.contains(step) && step < config.pretrainingSteps {
                    let snapshot = snapshotURL(checkpoint, step: step)
                    try Checkpoint.save(backbone, metadata: provenance.merging(["steps": "\(step)"]) { $1 }, to: snapshot)
                    print("  snapshot after \(step) steps: \(snapshot.relativePath)")
                }
                return metrics
            }
        }
        print("  pretraining took \(formatDuration(result.seconds)) (\(String(format: "%.0f", result.seconds * 1000 / Double(config.pretrainingSteps))) ms per step)")
        let maskedFraction = result.metrics.map(\.maskedFraction).reduce(0, +) / Float(result.metrics.count)
        print(String(format: "  masked frames: %.1f%% of the valid frames on average (after require_same_masks in each batch)", 100 * maskedFraction))
        try Checkpoint.save(backbone, metadata: provenance.merging(["steps": "\(config.pretrainingSteps)",
                                                                    "seconds": String(format: "%.0f", result.seconds)]) { $1 }, to: checkpoint)
        print("  checkpoint: \(checkpoint.relativePath) (front end and student encoder, with the clips they heard)")

        let steps = result.metrics.indices.map { Double($0 + 1) }
        chapter.figure("06-pretraining-\(kind).png") { path throws(PlotError) in
            var figure = Figure(title: "data2vec pretraining on spoken digits, \(kind) front end (seed \(options.seed))", xLabel: "step", yLabel: "value")
            figure.add(.line(x: steps, y: movingAverage(result.metrics.map { Double($0.loss) }, window: 25), title: "loss (moving average of 25 steps)"))
            figure.add(.line(x: steps, y: result.metrics.map { Double($0.targetVariance) }, title: "target variance (compute\\_var)"))
            figure.add(.line(x: steps, y: result.metrics.map { Double($0.predictionVariance) }, title: "prediction variance"))
            try figure.render(to: path)
        }
        let afterWarmup = result.metrics.dropFirst(Int(config.pretraining.warmupFraction * Float(config.pretrainingSteps)))
        let lowestTarget = afterWarmup.map(\.targetVariance).min() ?? 0, lowestPrediction = afterWarmup.map(\.predictionVariance).min() ?? 0
        print(String(format: "  after warm-up: lowest target variance %.3f, lowest prediction variance %.3f; last loss %.4f",
                     lowestTarget, lowestPrediction, result.metrics.last!.loss))
        if !options.quick {
            chapter.check(lowestTarget > 0.1 && lowestPrediction > 0.01,
                          String(format: "no collapse: variances stay above fairseq's floors (targets 0.1, predictions 0.01) after warm-up (%.3f, %.3f)",
                                 lowestTarget, lowestPrediction))
        }
        return result
    }

    /// What a checkpoint of this run records: the front end, each speaker's takes it heard (read back before
    /// the checkpoint is scored: it must never be scored on a clip it heard), the seed and the recipe's knobs.
    func pretrainingRecord(_ config: SpeechConfig, data: SpeechData) -> [String: String] {
        [
            "front_end": config.frontEnd.features.rawValue,
            "heard": data.digits.heardRecord(data.train),
            "seed": "\(options.seed)",
            "threads": "\(BLAS.threadCount)",
            "total_steps": "\(config.pretrainingSteps)",
            "batch_size": "\(config.batchSize)",
            "top_k": "\(config.data2vec.averageTopKLayers)",
            "span_length": "\(config.frontEnd.masking.spanLength)",
            "peak_learning_rate": "\(config.pretraining.peakLearningRate)",
        ]
    }

    /// Writes the pretrained waveform backbone as Hugging Face's Data2VecAudioModel, with the outputs of the first
    /// two test clips for scripts/hf/check.py (Sources/Interop/AudioModel+HuggingFace.swift has the name map).
    func exportHuggingFace(_ frontEnd: SpeechFrontEndConfiguration, _ config: SpeechConfig, checkpoint: URL, data: SpeechData, to folder: URL) throws {
        var rng = RandomGenerator(seed: 0)
        let backbone = SpeechBackbone(frontEnd: frontEnd, encoder: config.encoder, using: &rng)
        try Checkpoint.load(checkpoint, into: backbone)
        try backbone.exportHuggingFace(to: folder, clips: data.test.prefix(2).map { data.digits.clips[$0] })
        print("\n  Exported \(checkpoint.relativePath) as a Hugging Face Data2VecAudioModel to \(folder.relativePath) "
              + "(check it: python3 scripts/hf/check.py \(folder.relativePath))")
    }
}
