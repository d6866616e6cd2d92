// Chapter 05, section 2: data2vec pretraining on the unlabelled training images.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import Interop
import NN
import Plot

/// What pretraining measured (nothing when it was skipped).
struct PretrainingResult {
    var metrics: [StepMetrics] = []
    var seconds = 0.0
    var skipped = false
}

extension Chapter05 {
    func pretrainingSection(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, checkpoint: URL) throws -> PretrainingResult {
        chapter.section("2. Pretraining with data2vec")
        var rng = RandomGenerator(seed: options.seed)
        let backbone = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let d2v = config.data2vec, opt = config.pretraining
        if reuseCheckpoint {
            chapter.say("--reuse-checkpoint: no pretraining; sections 4-6 read the short run's saved backbone, \(checkpoint.relativePath).")
            return PretrainingResult(skipped: true)
        }
        let std: Float = { if case .truncatedNormal(let std, _, _) = config.encoder.initializer { return std } else { return .nan } }()
        let window = Int((1 / (1 - Double(d2v.emaEndDecay))).rounded())
        chapter.say("""
            The model is the benchmark's vision-tiny: D = \(config.encoder.dimension), \(config.encoder.blockCount) pre-LN \
            blocks of \(config.encoder.headCount) heads, MLP \(config.encoder.feedForwardDimension), \(backbone.parameterCount) \
            parameters in front end and encoder, initialized as data2vec vision does (a normal cut at one standard \
            deviation, each block's output projections divided by sqrt(2 i)), with the standard deviation scaled from \
            ViT-B's 0.02 at width 768 to \(String(format: "%.3f", std)) at width \(config.encoder.dimension). Targets: the \
            teacher's \(d2v.targetPoint == .endOfBlock ? "block outputs (end of block, as data2vec vision)" : "FFN outputs (as data2vec speech and text)") \
            of the top K = \(d2v.averageTopKLayers) blocks, each layer-normalized, averaged, normalized again; Smooth L1 \
            with beta \(d2v.lossBeta) at the masked patches. AdamW (peak lr \(opt.peakLearningRate), \
            \(Int(100 * opt.warmupFraction))% warm-up, cosine), batch \(config.batchSize), \(config.pretrainingSteps) steps = \
            \(String(format: "%.1f", Double(config.pretrainingSteps * config.batchSize) / Double(train.count))) epochs. \
            tau rises linearly from \(d2v.emaDecay) to \(d2v.emaEndDecay) over the run. The paper keeps 0.9998 for 800 \
            epochs of ImageNet, a teacher that averages over about 1 / (1 - tau) = 5,000 updates, 1% of its run; \
            here the teacher ends averaging over \(window) updates, \(Int((100 * Double(window) / Double(config.pretrainingSteps)).rounded()))% \
            of this run (an eighth of a run, but at least 1,000 updates), so that it keeps moving in a run this short.
            """)
        let trainer = Data2VecTrainer(frontEnd: backbone.frontEnd, student: backbone.encoder, config: d2v, optimization: opt,
                                      totalSteps: config.pretrainingSteps, headInitializer: config.encoder.initializer, using: &rng)
        let progress = ProgressLine("pretrain", total: config.pretrainingSteps)
        var batches = ShuffledBatches(Array(0..<train.count), size: config.batchSize)
        let provenance = pretrainingRecord(config, train: train)
        var result = PretrainingResult()
        (result.metrics, result.seconds) = try measure {
            try (1...config.pretrainingSteps).map { step in
                let metrics = trainer.step(train.batch(batches.next(using: &rng)).images, using: &rng)
                try chapter.requireFinite(metrics.loss, "the pretraining loss", step: step)
                progress.update(step: step, ["loss": metrics.loss, "target var": metrics.targetVariance, "pred var": metrics.predictionVariance])
                if config.snapshotSteps.contains(step) && step < config.pretrainingSteps {
                    let snapshot = snapshotURL(checkpoint, step: step)
                    try Checkpoint.save(backbone, metadata: provenance.merging(["steps": "\(step)"]) { $1 }, to: snapshot)
                    print("  snapshot after \(step) steps: \(snapshot.relativePath)")
                }
                return metrics
            }
        }
        print("  pretraining took \(formatDuration(result.seconds)) (\(String(format: "%.0f", result.seconds * 1000 / Double(config.pretrainingSteps))) ms per step)")
        try Checkpoint.save(backbone, metadata: provenance.merging(["steps": "\(config.pretrainingSteps)",
                                                                    "seconds": String(format: "%.0f", result.seconds)]) { $1 }, to: checkpoint)
        print("  checkpoint: \(checkpoint.relativePath) (front end and student encoder, with what they were pretrained on)")

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

    /// What a checkpoint of this run records about its pretraining: the images (file, count, fingerprint), the
    /// seed, the thread count and the recipe's knobs that differ between runs.
    func pretrainingRecord(_ config: VisionConfig, train: MNIST) -> [String: String] {
        [
            "pretrained_on": "vision/mnist_train_images.npy, images 0..<\(train.count)",
            "images_fingerprint": train.fingerprint.description,
            "seed": "\(options.seed)",
            "threads": "\(BLAS.threadCount)",
            "total_steps": "\(config.pretrainingSteps)",
            "batch_size": "\(config.batchSize)",
            "target": config.data2vec.targetPoint.rawValue,
            "top_k": "\(config.data2vec.averageTopKLayers)",
            "ema": "\(config.data2vec.emaDecay) -> \(config.data2vec.emaEndDecay) over \(config.data2vec.emaAnnealEndStep) steps",
            "peak_learning_rate": "\(config.pretraining.peakLearningRate)",
        ]
    }
}

/// A long pretraining run of `make pretrained`: its checkpoint, what it records, and its snapshots.
struct LongRun {
    var url: URL
    var metadata: [String: String]
    /// The seed it was pretrained with, and its steps.
    var seed: String { metadata["seed"] ?? "?" }
    var steps: Int { Int(metadata["steps"] ?? "") ?? 0 }
    /// The copies saved on the way (steps, file), in order.
    var snapshots: [(steps: Int, url: URL)]
}

extension Chapter05 {
    /// Reads what each long checkpoint was pretrained on, refusing any that would be scored on its own
    /// pretraining images (see `checkProvenance`), and finds the snapshots saved beside it.
    func loadLongRuns(_ config: VisionConfig, train: MNIST, test: MNIST) throws -> [LongRun] {
        try config.pretrained.map { path in
            let url = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ChapterError("--pretrained \(path): no such file. The long checkpoints are committed under pretrained/; "
                                   + "`make pretrained` makes them again (about an hour), or run with --no-pretrained to evaluate the chapter's own run only.")
            }
            let metadata = try checkProvenance(of: url, flag: "--pretrained", train: train, test: test)
            let stem = url.deletingPathExtension().lastPathComponent
            let folder = url.deletingLastPathComponent()
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            let snapshots = names.compactMap { name -> (steps: Int, url: URL)? in
                guard name.hasPrefix(stem + "-step"), name.hasSuffix(".safetensors"),
                      let steps = Int(name.dropFirst(stem.count + 5).dropLast(12)) else { return nil }
                return (steps, folder.appendingPathComponent(name))
            }.sorted { $0.steps < $1.steps }
            return LongRun(url: url, metadata: metadata, snapshots: snapshots)
        }
    }

    /// Returns a checkpoint's metadata after making sure it was not pretrained on the images it is about to be
    /// scored on: a test set equal to its pretraining set, or test images found among them. (With --validation
    /// the scored images are training images, which every checkpoint of this chapter saw unlabelled: allowed.)
    func checkProvenance(of url: URL, flag: String, train: MNIST, test: MNIST) throws -> [String: String] {
        let metadata = try Checkpoint.load(url).metadata
        let path = url.relativePath
        guard let recorded = metadata["images_fingerprint"] else {
            throw ChapterError("\(flag) \(path): the checkpoint does not record what it was pretrained on (no images_fingerprint), "
                               + "so the chapter cannot make sure it never saw the test images. Pretrain it with this chapter (--pretrain-only).")
        }
        if validation { return metadata }
        if recorded == test.fingerprint.description {
            throw ChapterError("\(flag) \(path) was pretrained on these very test images (\(metadata["pretrained_on"] ?? "?")); "
                               + "scoring it on them would measure memory, not representations. Give a --data-dir whose test images it never saw.")
        }
        if recorded == train.fingerprint.description {
            let trainImages = Set(train.imageFingerprints())
            let seen = test.imageFingerprints().filter { trainImages.contains($0) }.count
            if seen > 0 {
                throw ChapterError("\(flag) \(path): \(seen) of the \(test.count) test images are among the \(train.count) images it was "
                                   + "pretrained on. Give a --data-dir whose test images are not in its training file.")
            }
        } else {
            print("  note: \(path) was pretrained on other images (\(metadata["pretrained_on"] ?? "?")) than this --data-dir's training "
                  + "file, so the test images could be compared with that set as a whole, not image by image.")
        }
        return metadata
    }

    /// Writes the pretrained backbone as Hugging Face's Data2VecVisionModel, with the outputs of the first two test
    /// images for scripts/hf/check.py (Sources/Interop/VisionModel+HuggingFace.swift has the name map).
    func exportHuggingFace(_ config: VisionConfig, checkpoint: URL, test: MNIST, to folder: URL) throws {
        var rng = RandomGenerator(seed: 0)
        let backbone = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        try Checkpoint.load(checkpoint, into: backbone)
        try backbone.exportHuggingFace(to: folder, images: test.batch(Array(0..<min(2, test.count))).images)
        print("\n  Exported \(checkpoint.relativePath) as a Hugging Face Data2VecVisionModel to \(folder.relativePath) "
              + "(check it: python3 scripts/hf/check.py \(folder.relativePath))")
    }
}
