// # Chapter 05: data2vec on images
//
// What you will learn
//   1. how an image becomes a sequence: 4 x 4 patches, a linear embedding, 2-D positions, block masks;
//   2. data2vec pretraining on 10,000 unlabelled MNIST digits, with the collapse monitor;
//   3. what a skeptic tries first: nearest neighbours and logistic regression on the raw pixels;
//   4. how to read a frozen encoder: k-nearest neighbours and a linear probe on its features, block by block;
//   5. fine-tuning against training from scratch, each with its learning rate chosen on held-out labels;
//   6. how much pretraining it takes before data2vec pays off here: the compute curve.
// Every comparison uses the same labelled images for every method: 10, 50, 100, 1,000 and 10,000 of them,
// five draws each (the evaluation seeds), and the long pretraining was run three times (the pretraining seeds).
// Prerequisites: chapter 04. Run: `swift run -c release ch05-vision` (`--quick`: seconds).
// Letters: B batch, T = 49 patches, D width, K averaged blocks, tau the EMA decay.
//
// The parts, in order: 1-Patches.swift (section 1), 2-Pretraining.swift (2), 3-Pixels.swift (3),
// 4-Frozen.swift (4), 5-FineTuning.swift (5), 6-ComputeCurve.swift (6), 7-Summary.swift (7). Every knob of
// the run is in `VisionConfig` below; the machinery is in the library (Data2Vec, Evaluation).
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

/// Every knob of a chapter 05 run. Printed at the start of the run.
struct VisionConfig {
    /// 4 x 4 patches of 28 x 28 images, block masks of at least 4 patches covering 29 of 49 (59%).
    var frontEnd: ImagePatchConfiguration = {
        var c = ImagePatchConfiguration(dimension: 64)
        c.initializer = .beitTruncatedNormal(scaledTo: 64)
        return c
    }()
    /// The benchmark's vision-tiny, initialized as data2vec vision (`modeling_cyclical.py`: a truncated normal
    /// cut at one standard deviation, `fix_init_weight`, LayerNorm eps 1e-6), with the standard deviation scaled
    /// from ViT-B's width to this one (see `Initializer.beitTruncatedNormal(scaledTo:)`).
    var encoder = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .preLN,
                                           rescaleResidualWeights: true, layerNormEpsilon: 1e-6,
                                           initializer: .beitTruncatedNormal(scaledTo: 64))
    /// data2vec vision's targets: the end of each of the top K blocks, layer-normalized, averaged, normalized
    /// again; Smooth L1 with beta 2; a Linear head. The teacher's schedule is fitted to the run's length.
    var data2vec: Data2VecConfig = {
        var c = Data2VecConfig(averageTopKLayers: 4, layerwiseTargetNorm: .layer, emaAnnealEndStep: 2000)
        c.targetPoint = .endOfBlock
        c.finalTargetNorm = .layer
        c.lossBeta = 2
        c.emaDecay = 0.99
        c.scaleTeacherSchedule(toSteps: 2000)
        return c
    }()
    /// data2vec vision's AdamW (weight decay 0.05, cosine, clipping at 3) at twice its peak learning rate (measured
    /// better here: see docs/deviations.md), with Adam's beta2 at fairseq's 0.98.
    var pretraining = AdamWConfiguration(peakLearningRate: 4e-3, beta2: 0.98, weightDecay: 0.05, warmupFraction: 0.1,
                                         finalFraction: 0.01, clipNorm: 3)
    /// The chapter's own, short pretraining run.
    var pretrainingSteps = 2000
    var batchSize = 64
    /// Steps after which a copy of the backbone is saved beside the checkpoint (the long runs' compute curve).
    var snapshotSteps: [Int] = []
    /// Where the short run's backbone is written.
    var checkpoint = "checkpoints/ch05-vision.safetensors"
    /// The long pretraining runs (`make pretrained`), one per pretraining seed, evaluated beside the short run.
    var pretrained = (0..<3).map { "pretrained/ch05-vision/seed\($0).safetensors" }

    /// The few-label protocol: labelled training images per run, and the draws of each count.
    var labelCounts = [10, 50, 100, 1000, 10_000]
    var evaluationSeeds = 5
    /// The counts at which the whole network is fine-tuned, the costly part: 100 in the default run, which must
    /// fit in 10 minutes; `--fine-tune-counts 10 50 100 1000` is the whole protocol (about half an hour,
    /// results/ch05-vision-full.txt).
    var fineTuneCounts = [100]
    /// k-nearest neighbours: the votes of the 1 nearest, and DINO's weighted vote of the 20 nearest.
    var neighbourCounts = [1, 20]
    var neighbourTemperature: Float = 0.07
    /// Logistic regression's inverse regularization C (scikit-learn's default) on standardized features.
    var logisticC = 1.0
    /// Fine-tuning and training from scratch: the same optimizer, budget rule and learning-rate grid; the rate
    /// is chosen per label count and per method on the labelled images held out of the first draw.
    var fineTuning = AdamWConfiguration(peakLearningRate: 1e-3, weightDecay: 0.05, warmupFraction: 0.1)
    var learningRates: [Float] = [3e-4, 1e-3, 3e-3]
    /// Light augmentation, for every method alike: labelled images moved by up to `maximumShift` pixels across
    /// and down (0: none). Training networks draw a new shift for every image of every batch; the references and
    /// the frozen probes, which train once, get `shiftedCopies` shifted copies of each labelled image beside it.
    var maximumShift = 2
    var shiftedCopies = 4
    /// The budget rule, the same for every method: at most 300 updates with up to 100 labels and 1,500 with more
    /// (as many passes as that takes), at least 100, early stopping on the labelled images held out.
    var fineTuningBudget = TrainingBudget(maximumEpochs: 10_000, maximumSteps: 300, minimumSteps: 100, batchSize: 64,
                                          minimumStepsBetweenValidations: 25, maximumStepsBetweenValidations: 150, patience: 4)
    var manyLabelMaximumSteps = 1500
    /// The chapter's own short run is fine-tuned at these counts only (the long runs and scratch at every one).
    var shortRunFineTuneCounts = [100]

    /// The settings of a `--quick` run: a few steps on a small part of the data.
    mutating func makeQuick() {
        pretrainingSteps = 20
        data2vec.scaleTeacherSchedule(toSteps: 20)
        labelCounts = [10, 100]
        fineTuneCounts = [10, 100]
        evaluationSeeds = 2
        learningRates = [1e-3, 3e-3]
        fineTuningBudget.maximumEpochs = 5
        fineTuningBudget.maximumSteps = 10
        manyLabelMaximumSteps = 10
        fineTuningBudget.minimumSteps = 0
        checkpoint = "checkpoints/ch05-vision-quick.safetensors"
    }
}

struct Chapter05: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch05-vision", abstract: "data2vec on MNIST: pretraining, references, probes, fine-tuning.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps of the chapter's own run (default 2000; 20 with --quick).") var pretrainSteps: Int?
    @Flag(help: "Pretrain, save the checkpoint (and --snapshot-steps copies), and stop: what `make pretrained` runs.") var pretrainOnly = false
    @Option(parsing: .upToNextOption, help: "Steps after which to save a copy of the backbone beside the checkpoint (name-stepNNNNN.safetensors).") var snapshotSteps: [Int] = []
    @Option(help: "Where the short run's backbone is written (safetensors).") var checkpoint: String?
    @Option(parsing: .upToNextOption, help: "The long pretraining checkpoints to evaluate (default: pretrained/ch05-vision/seed0-2); none with --no-pretrained.") var pretrained: [String] = []
    @Flag(help: "Evaluate only the chapter's own short run, not the committed long ones.") var noPretrained = false
    @Flag(help: "Skip the short run's pretraining and evaluate the checkpoint it saved (--checkpoint) on the data of --data-dir.") var reuseCheckpoint = false
    @Flag(help: "Score on the last 2,000 training images instead of the test images, with labels drawn from the first 8,000: the split this chapter's choices were made on.") var validation = false
    @Option(help: "Target point: end-of-block (data2vec vision) or feed-forward (speech and text).") var target = "end-of-block"
    @Option(help: "Smallest masked block, in patches (default 4; 1 scatters single patches).") var minimumBlock: Int?
    @Option(help: "Averaged teacher blocks K (1 to 4).") var topK: Int?
    @Option(parsing: .upToNextOption, help: "Labelled training images per evaluation run (default 10 50 100 1000 10000).") var labelCounts: [Int] = []
    @Option(help: "Evaluation seeds: draws of the labelled images per count (default 5).") var evaluationSeeds: Int?
    @Option(help: "Augmentation: shift labelled images by up to this many pixels, for every method (default 2; 0 for none).") var maximumShift: Int?
    @Option(parsing: .upToNextOption, help: "Label counts at which the whole network is fine-tuned (default 100; 10 50 100 1000 is the whole protocol; 0 for none).") var fineTuneCounts: [Int] = []
    @Option(help: "Peak learning rate of pretraining (default 0.004).") var pretrainLearningRate: Float?
    @Option(help: "Stochastic depth of the last block (BEiT's drop_path; default 0).") var dropPath: Float?
    @Option(help: "LayerScale's initial value (BEiT's layer_scale_init_value; default none).") var layerScale: Float?
    @Flag(help: "A learned CLS token before the patches (data2vec vision's and BEiT's; needed by --export-hf). The committed long runs have none and are left out.")
    var classToken = false
    @Option(help: "Write the pretrained backbone as a Hugging Face Data2VecVisionModel into this folder (needs --class-token; check it with scripts/hf/check.py).")
    var exportHf: String?
    @Option(help: "Weight initialization: scaled (data2vec vision's, scaled to the width; default) or beit (unscaled std 0.02).") var initializer: String?

    func validate() throws {
        if let pretrainSteps, !(10...1_000_000).contains(pretrainSteps) {
            throw ValidationError("--pretrain-steps must be between 10 and 1000000, got \(pretrainSteps)")
        }
        guard ["end-of-block", "feed-forward"].contains(target) else {
            throw ValidationError("--target must be end-of-block or feed-forward, got \(target)")
        }
        if let minimumBlock, !(1...29).contains(minimumBlock) { throw ValidationError("--minimum-block must be between 1 and 29, got \(minimumBlock)") }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the model has 4 blocks), got \(topK)") }
        if let initializer, !["scaled", "beit"].contains(initializer) { throw ValidationError("--initializer must be scaled or beit, got \(initializer)") }
        if let bad = snapshotSteps.first(where: { $0 < 1 || $0 >= (pretrainSteps ?? VisionConfig().pretrainingSteps) }) {
            throw ValidationError("--snapshot-steps must lie between 1 and the pretraining steps, got \(bad)")
        }
        if let bad = labelCounts.first(where: { $0 < 10 }) { throw ValidationError("--label-counts must be at least 10 each (one per class), got \(bad)") }
        if let pretrainLearningRate, !(pretrainLearningRate > 0 && pretrainLearningRate < 1) { throw ValidationError("--pretrain-learning-rate must be in (0, 1), got \(pretrainLearningRate)") }
        if let dropPath, !(0..<1).contains(dropPath) { throw ValidationError("--drop-path must be in [0, 1), got \(dropPath)") }
        if let layerScale, !(layerScale > 0 && layerScale <= 1) { throw ValidationError("--layer-scale must be in (0, 1], got \(layerScale)") }
        if let bad = fineTuneCounts.first(where: { $0 < 0 }) { throw ValidationError("--fine-tune-counts must not be negative, got \(bad)") }
        if let maximumShift, !(0...6).contains(maximumShift) { throw ValidationError("--maximum-shift must be between 0 and 6 pixels, got \(maximumShift)") }
        if let evaluationSeeds, !(1...100).contains(evaluationSeeds) { throw ValidationError("--evaluation-seeds must be between 1 and 100, got \(evaluationSeeds)") }
        if noPretrained && !pretrained.isEmpty { throw ValidationError("--no-pretrained and --pretrained contradict each other; give one") }
        if exportHf != nil && !classToken {
            throw ValidationError("--export-hf needs --class-token: Hugging Face's Data2VecVisionModel always puts a CLS token before the patches, "
                                  + "and a model pretrained without one cannot be written as one")
        }
        if classToken && !pretrained.isEmpty { throw ValidationError("--pretrained checkpoints have no CLS token; they cannot be read with --class-token") }
        if reuseCheckpoint && (pretrainOnly || pretrainSteps != nil) { throw ValidationError("--reuse-checkpoint skips pretraining; it cannot go with --pretrain-only or --pretrain-steps") }
    }

    /// The run's configuration: the defaults, the quick settings, then the flags.
    func makeConfig() -> VisionConfig {
        var config = VisionConfig()
        if options.quick { config.makeQuick() }
        if let pretrainSteps { config.pretrainingSteps = pretrainSteps }
        config.data2vec.scaleTeacherSchedule(toSteps: config.pretrainingSteps)
        config.snapshotSteps = snapshotSteps
        config.data2vec.targetPoint = target == "feed-forward" ? .feedForward : .endOfBlock
        if let minimumBlock { config.frontEnd.minimumBlock = minimumBlock }
        if let topK { config.data2vec.averageTopKLayers = topK }
        if !labelCounts.isEmpty {
            config.labelCounts = labelCounts
            config.fineTuneCounts = config.fineTuneCounts.filter(labelCounts.contains)
        }
        if let evaluationSeeds { config.evaluationSeeds = evaluationSeeds }
        if let maximumShift { config.maximumShift = maximumShift }
        if !fineTuneCounts.isEmpty { config.fineTuneCounts = fineTuneCounts.filter { $0 > 0 } }
        if let pretrainLearningRate { config.pretraining.peakLearningRate = pretrainLearningRate }
        if let dropPath { config.encoder.dropPath = dropPath }
        if let layerScale { config.encoder.layerScale = layerScale }
        if initializer == "beit" { (config.encoder.initializer, config.frontEnd.initializer) = (.beitTruncatedNormal, .beitTruncatedNormal) }
        if let checkpoint { config.checkpoint = checkpoint }
        if !pretrained.isEmpty { config.pretrained = pretrained }
        if noPretrained || pretrainOnly || classToken { config.pretrained = [] }
        if classToken { config.frontEnd.classToken = true }
        return config
    }

    func run() throws {
        let chapter = try Chapter(number: 5, title: "data2vec on images", options: options)
        let config = makeConfig()
        chapter.printConfiguration(config)
        var (train, test) = try loadData(chapter)
        if validation {
            guard train.count > 2000 else { throw ChapterError("--validation needs more than 2,000 training images; this --data-dir has \(train.count)") }
            (train, test) = (train.prefix(train.count - 2000), train.subset(Array((train.count - 2000)..<train.count)))
            print("  --validation: labelled images from the first \(train.count) training images, scores on the last 2,000 (no test image is read)")
        }
        let checkpoint = URL(fileURLWithPath: config.checkpoint)
        try chapter.requireOutputFile(checkpoint, flag: "--checkpoint", reading: reuseCheckpoint)
        // Refused here, before any work, if they were pretrained on the images they would be scored on.
        let long = try loadLongRuns(config, train: train, test: test)
        if reuseCheckpoint { _ = try checkProvenance(of: checkpoint, flag: "--checkpoint", train: train, test: test) }
        if options.quick { (train, test) = (train.prefix(2000), test.prefix(500)) }
        try patchesAndMasks(chapter, config, train: train)                                                 // section 1
        if let exportHf { try chapter.requireOutputFolder(URL(fileURLWithPath: exportHf), flag: "--export-hf") }
        let pretraining = try pretrainingSection(chapter, config, train: train, checkpoint: checkpoint)    // section 2
        if let exportHf { try exportHuggingFace(config, checkpoint: checkpoint, test: test, to: URL(fileURLWithPath: exportHf)) }
        if pretrainOnly { return try chapter.finish() }
        let evaluation = try EvaluationSetup(config, train: train, test: test, seed: options.seed)
        let pixels = pixelReferences(chapter, config, evaluation)                                          // section 3
        let encoders = try encoderSet(config, short: checkpoint, long: long)
        let frozen = try frozenSection(chapter, config, evaluation, encoders: encoders, pixels: pixels)        // section 4
        let tuned = try fineTuningSection(chapter, config, evaluation, encoders: encoders, pixels: pixels)  // section 5
        let curve = try computeCurve(chapter, config, evaluation, encoders: encoders, long: long, frozen: frozen,
                                     tuned: tuned, pixels: pixels)                                         // section 6
        summary(chapter, config, evaluation, pretraining: pretraining, pixels: pixels, frozen: frozen, tuned: tuned, curve: curve)  // section 7
        try chapter.finish()
    }
}

extension MNIST {
    /// The first `count` images (for quick runs).
    func prefix(_ count: Int) -> MNIST { subset(Array(0..<min(count, self.count))) }
}
