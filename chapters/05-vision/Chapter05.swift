// # Chapter 05: data2vec on images
//
// What you will learn
//   1. how an image becomes a sequence: 4 x 4 patches, a linear embedding, 2-D positions, block masks;
//   2. data2vec pretraining on 10,000 unlabelled MNIST digits, with the collapse monitor;
//   3. what the features look like before and after pretraining (PCA);
//   4. how to evaluate a self-supervised encoder: linear probes and fine-tuning with 10 to 10,000 labels,
//      against a random encoder and the same network trained from scratch, over several seeds;
//   5. what limits a linear probe on pooled features.
// Prerequisites: chapter 04. Run: `swift run -c release ch05-vision` (`--quick`: seconds;
// `--reuse-checkpoint`: evaluate the saved backbone on any `--data-dir` without pretraining again).
// Letters: B batch, T = 49 patches, D width, K averaged blocks, tau the EMA decay.
//
// The parts, in order: 1-Patches.swift (section 1), 2-Pretraining.swift (2), 3-Features.swift (3),
// 4-Labels.swift (4), 5-Diagnosis.swift (5), 6-Summary.swift (6). The run's settings are all in
// `VisionConfig` below; the machinery is in the library (Data2Vec, Evaluation).
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
    /// again; Smooth L1 with beta 2; a Linear head.
    var data2vec: Data2VecConfig = {
        var c = Data2VecConfig(averageTopKLayers: 4, layerwiseTargetNorm: .layer, emaAnnealEndStep: 2000)
        c.targetPoint = .endOfBlock
        c.finalTargetNorm = .layer
        c.lossBeta = 2
        c.emaDecay = 0.99
        c.emaEndDecay = 0.999
        return c
    }()
    /// data2vec vision's AdamW (weight decay 0.05, cosine, clipping at 3) at twice its peak learning rate (measured
    /// better here: see README), with Adam's beta2 at fairseq's 0.98.
    var pretraining = AdamWConfiguration(peakLearningRate: 4e-3, beta2: 0.98, weightDecay: 0.05, warmupFraction: 0.1,
                                         finalFraction: 0.01, clipNorm: 3)
    var pretrainingSteps = 2000
    var batchSize = 64
    /// Section 4: labelled training images per run, and how many seeds each count gets.
    var labelCounts = [10, 100, 1000, 10_000]
    var probeSeeds = 3
    var fineTuneSeeds = [10: 3, 100: 3, 1000: 2, 10_000: 1]
    var probe = LinearProbeConfiguration()
    /// Fine-tuning and training from scratch: the same optimizer and the same budget rule.
    var fineTuning = AdamWConfiguration(peakLearningRate: 1e-3, weightDecay: 0.05, warmupFraction: 0.1)
    var fineTuningBudget = TrainingBudget(maximumEpochs: 200, maximumSteps: 1500, minimumSteps: 300, batchSize: 64,
                                          minimumStepsBetweenValidations: 25, maximumStepsBetweenValidations: 150, patience: 4)
    /// Where the pretrained backbone is written and read.
    var checkpoint = "checkpoints/ch05-vision.safetensors"

    /// The settings of a `--quick` run: a few steps on a small part of the data.
    mutating func makeQuick() {
        pretrainingSteps = 20
        data2vec.emaAnnealEndStep = 20
        labelCounts = [10, 100]
        probeSeeds = 1
        fineTuneSeeds = [10: 1, 100: 1]
        probe.epochs = 3
        probe.minimumSteps = 10
        fineTuningBudget.maximumEpochs = 5
        fineTuningBudget.maximumSteps = 10
        fineTuningBudget.minimumSteps = 0
        checkpoint = "checkpoints/ch05-vision-quick.safetensors"
    }
}

struct Chapter05: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch05-vision", abstract: "data2vec on MNIST: pretraining, probes, fine-tuning.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps (default 2000; 20 with --quick).") var pretrainSteps: Int?
    @Option(help: "Target point: end-of-block (data2vec vision) or feed-forward (speech and text).") var target = "end-of-block"
    @Option(help: "Smallest masked block, in patches (default 4; 1 scatters single patches).") var minimumBlock: Int?
    @Option(help: "Averaged teacher blocks K (1 to 4).") var topK: Int?
    @Option(parsing: .upToNextOption, help: "Labelled training images per evaluation run (default 10 100 1000 10000).") var labelCounts: [Int] = []
    @Option(help: "Stochastic depth of the last block (BEiT's drop_path; default 0).") var dropPath: Float?
    @Option(help: "LayerScale's initial value (BEiT's layer_scale_init_value; default none).") var layerScale: Float?
    @Option(help: "Weight initialization: scaled (data2vec vision's, scaled to the width; default) or beit (unscaled std 0.02).") var initializer: String?
    @Flag(help: "Skip pretraining and evaluate the checkpoint (on the data of --data-dir).") var reuseCheckpoint = false
    @Option(help: "Where the pretrained backbone is written and read (safetensors).") var checkpoint: String?

    func validate() throws {
        if let pretrainSteps, !(10...1_000_000).contains(pretrainSteps) {
            throw ValidationError("--pretrain-steps must be between 10 and 1000000, got \(pretrainSteps)")
        }
        guard ["end-of-block", "feed-forward"].contains(target) else {
            throw ValidationError("--target must be end-of-block or feed-forward, got \(target)")
        }
        if let minimumBlock, !(1...29).contains(minimumBlock) { throw ValidationError("--minimum-block must be between 1 and 29, got \(minimumBlock)") }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the model has 4 blocks), got \(topK)") }
        if let dropPath, !(0..<1).contains(dropPath) { throw ValidationError("--drop-path must be in [0, 1), got \(dropPath)") }
        if let layerScale, !(layerScale > 0 && layerScale <= 1) { throw ValidationError("--layer-scale must be in (0, 1], got \(layerScale)") }
        if let initializer, !["scaled", "beit"].contains(initializer) { throw ValidationError("--initializer must be scaled or beit, got \(initializer)") }
        if let bad = labelCounts.first(where: { $0 < 10 }) { throw ValidationError("--label-counts must be at least 10 each (one per class), got \(bad)") }
    }

    /// The run's configuration: the defaults, the quick settings, then the flags.
    func makeConfig() -> VisionConfig {
        var config = VisionConfig()
        if options.quick { config.makeQuick() }
        if let pretrainSteps { config.pretrainingSteps = pretrainSteps }
        config.data2vec.emaAnnealEndStep = config.pretrainingSteps
        config.data2vec.targetPoint = target == "feed-forward" ? .feedForward : .endOfBlock
        if let minimumBlock { config.frontEnd.minimumBlock = minimumBlock }
        if let topK { config.data2vec.averageTopKLayers = topK }
        if !labelCounts.isEmpty { config.labelCounts = labelCounts }
        if let dropPath { config.encoder.dropPath = dropPath }
        if let layerScale { config.encoder.layerScale = layerScale }
        if initializer == "beit" { (config.encoder.initializer, config.frontEnd.initializer) = (.beitTruncatedNormal, .beitTruncatedNormal) }
        if let checkpoint { config.checkpoint = checkpoint }
        return config
    }

    func run() throws {
        let chapter = try Chapter(number: 5, title: "data2vec on images", options: options)
        let config = makeConfig()
        chapter.printConfiguration(config)
        var (train, test) = try loadData(chapter)
        if options.quick { (train, test) = (train.prefix(2000), test.prefix(500)) }
        let checkpoint = URL(fileURLWithPath: config.checkpoint)
        try chapter.requireOutputFile(checkpoint, flag: "--checkpoint", reading: reuseCheckpoint)
        try patchesAndMasks(chapter, config, train: train)                                        // section 1
        let pretraining = try pretrainingSection(chapter, config, train: train, checkpoint: checkpoint)  // section 2
        let backbones = try frozenFeatures(chapter, config, train: train, test: test, checkpoint: checkpoint)  // section 3
        let labels = try labelsSection(chapter, config, train: train, test: test, backbones: backbones)  // section 4
        let diagnosis = diagnosisSection(chapter, config, train: train, test: test, backbones: backbones)  // section 5
        summary(chapter, config, pretraining: pretraining, labels: labels, diagnosis: diagnosis, trainCount: train.count)  // section 6
        try chapter.finish()
    }
}

extension MNIST {
    /// The first `count` images (for quick runs).
    func prefix(_ count: Int) -> MNIST { subset(Array(0..<min(count, self.count))) }
}
