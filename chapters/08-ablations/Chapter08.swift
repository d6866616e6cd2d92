// # Chapter 08: the paper's ablations, in small
//
// What you will learn
//   1. how each of the paper's ablations is one field of the recipe, and how to read an ablation honestly:
//      several pretraining seeds per arm, the spread beside the mean, scores on held-out examples;
//   2. top-K averaging (paper Figure 2): targets built from several teacher blocks or from the top one;
//   3. target context (Figure 3): a teacher that sees the whole input or only a window around each position;
//   4-8. (with --grid full) the target type (Table 5), the targets' normalization (sections 3.3 and 6), the
//      teacher's tau (section 6), the masked fraction (section 4.1, Table 8) and the loss (Table 7);
//   the last section: the paper's findings beside what this run sees.
// The default model is chapter 05's: MNIST digits as 7 x 7 patches, 4 pre-LN blocks of width 64; every arm pretrains
// from the same initialization seeds on the first 8,000 training images and is read by frozen probes with 100
// labels. `--modality speech` runs the speech ablations (top-K, context, Table 5's four target types, Table 8's
// mask probability and span, Table 7's loss) on chapter 06's log-mel model and spoken digits.
// Prerequisites: chapters 04-06. Run: `swift run -c release ch08-ablations` (`--quick`: seconds; `--grid full`:
// every arm of every ablation, about an hour; `--modality speech --grid full`: about half an hour).
//
// The parts, in order: 1-Data.swift (what each modality pretrains on and how a frozen encoder is scored),
// 2-Protocol.swift (section 1 and the runs every section reads), 3-Ablations.swift (one section per ablation),
// 4-Summary.swift (the last section). The arms are data in the library (Sources/Data2Vec/Ablations.swift); every
// knob of a run is in `AblationConfig` (images) or `SpeechAblationConfig` (speech) below.
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

/// Which model and data the ablations run on.
enum Modality: String, ExpressibleByArgument, CaseIterable {
    /// Chapter 05's: MNIST as 7 x 7 patches, pre-LN blocks.
    case vision
    /// Chapter 06's: spoken digits as log-mel frames, post-LN blocks.
    case speech
}

/// Which arms a run pretrains.
enum Grid: String, ExpressibleByArgument, CaseIterable {
    /// The two headline questions (top-K, target context), with the arms that answer them.
    case headline
    /// Every arm of every ablation.
    case full
}

/// Every knob of a chapter 08 run on images. Printed at the start of the run.
struct AblationConfig: AblationSettings {
    /// The default recipe every arm changes in one field: chapter 05's model, targets and optimizer, pretrained for
    /// fewer steps (each arm runs once per pretraining seed).
    var recipe: VisionRecipe = {
        var frontEnd = ImagePatchConfiguration(dimension: 64)
        frontEnd.initializer = .beitTruncatedNormal(scaledTo: 64)
        let encoder = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .preLN,
                                               rescaleResidualWeights: true, layerNormEpsilon: 1e-6,
                                               initializer: .beitTruncatedNormal(scaledTo: 64))
        var data2vec = Data2VecConfig(averageTopKLayers: 4, layerwiseTargetNorm: .layer, emaAnnealEndStep: 1200)
        data2vec.targetPoint = .endOfBlock
        data2vec.finalTargetNorm = .layer
        data2vec.lossBeta = 2
        data2vec.emaDecay = 0.99
        data2vec.scaleTeacherSchedule(toSteps: 1200)
        let optimization = AdamWConfiguration(peakLearningRate: 4e-3, beta2: 0.98, weightDecay: 0.05, warmupFraction: 0.1,
                                              finalFraction: 0.01, clipNorm: 3)
        return VisionRecipe(frontEnd: frontEnd, encoder: encoder, data2vec: data2vec, optimization: optimization, steps: 1200, batchSize: 64)
    }()
    /// `headline` or `full`.
    var grid = Grid.headline
    /// The arms of the headline grid, by ablation key (the full grid runs every arm).
    var headlineArms: [String: [String]] = ["top-k": ["K = 1", "K = 4"], "context": ["radius 0", "radius 1", "whole image"]]
    /// Pretraining seeds per arm.
    var pretrainingSeeds = 3
    /// The last `validationImages` training images are never pretrained on or labelled: the sections' scores.
    var validationImages = 2000
    /// The frozen probe: `labelCount` labelled images (class-balanced), `evaluationSeeds` draws, the same for every arm.
    var labelCount = 100
    var evaluationSeeds = 5
    /// DINO's weighted vote of the k nearest, and logistic regression's C (scikit-learn's default).
    var neighbours = 20
    var neighbourTemperature: Float = 0.07
    var logisticC = 1.0

    /// A run of seconds: a few steps, one seed, few images.
    mutating func makeQuick() {
        recipe.steps = 10
        recipe.data2vec.scaleTeacherSchedule(toSteps: 10)
        pretrainingSeeds = 1
        evaluationSeeds = 2
        validationImages = 300
    }

    var neighbourName: String { "\(neighbours)-NN" }

    /// Section 1's account of the protocol.
    func introduction(_ data: AblationData<ImagePatchFrontEnd>, sections: Int) -> String {
        let r = recipe
        return """
            Every arm is chapter 05's recipe with one field changed: the same front end, encoder (D = \(r.encoder.dimension), \
            \(r.encoder.blockCount) pre-LN blocks), targets (end of block, top K = \(r.data2vec.averageTopKLayers), layer-normalized, \
            Smooth L1 with beta \(r.data2vec.lossBeta)), optimizer and masks, pretrained for \(r.steps) steps of \(r.batchSize) \
            on the first \(data.pretrainingCount) training images, with tau from \(r.data2vec.emaDecay) to \(r.data2vec.emaEndDecay). \
            Each arm runs with \(pretrainingSeeds) pretraining seeds; seed s starts every arm from the same weights and \
            the same order of batches, so arms differ by their one field and nothing else. Each pretrained encoder is \
            frozen and read as chapter 05 reads it (the last block averaged over the patches, standardized): a linear \
            probe and DINO's \(neighbours)-NN vote, each trained on the same \(evaluationSeeds) draws of \
            \(labelCount) labelled images. Sections 2-\(sections + 1) score on the last \(data.validationCount) \
            training images, which no arm pretrained on or was labelled with; section \(sections + 2) gives the \
            test images' scores. Nothing is chosen on either: every arm is reported.
            """
    }
}

/// Every knob of a chapter 08 run on speech (`--modality speech`). Printed at the start of the run.
struct SpeechAblationConfig: AblationSettings {
    /// Chapter 06's recipe: log-mel frames every 10 ms, span masking p 0.65 of 20 frames, a post-LN encoder with the
    /// student's dropouts, the FFN outputs of the top 3 of 4 blocks, instance-normalized, L2; 1,200 steps of 32 clips;
    /// the library's positions (3 convolutions of kernel 9), with which the ablations were recorded (chapter 06 has
    /// since taken data2vec speech's 5 of kernel 37).
    var recipe: SpeechRecipe = {
        var frontEnd = SpeechFrontEndConfiguration(dimension: 64)
        frontEnd.features = .logmel
        let encoder = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN,
                                               inputLayerNorm: true, dropout: 0.1, attentionDropout: 0.1, layerDrop: 0.05,
                                               initializer: .normal(std: 0.02))
        var data2vec = Data2VecConfig(averageTopKLayers: 3, layerwiseTargetNorm: .instance, emaAnnealEndStep: 1200)
        data2vec.emaDecay = 0.99
        data2vec.emaEndDecay = 0.999
        let optimization = AdamWConfiguration(peakLearningRate: 2e-3, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.01, warmupFraction: 0.1,
                                              finalFraction: 0.05, shape: .triStage(hold: 0.5), clipNorm: 3)
        return SpeechRecipe(frontEnd: frontEnd, encoder: encoder, data2vec: data2vec, optimization: optimization, steps: 1200, batchSize: 32)
    }()
    var grid = Grid.headline
    var headlineArms: [String: [String]] = ["top-k": ["K = 1", "K = 3"], "context": ["radius 0 (10 ms)", "radius 5 (110 ms)", "whole clip"]]
    var pretrainingSeeds = 3
    /// Clips longer than this many samples are cropped to a random window in pretraining (1 s; fairseq `max_sample_size`).
    var maximumSamples = 8000
    /// The frozen probe: chapter 06's view (one block's output, mean and standard deviation over the frames), read by
    /// logistic regression and the nearest neighbour with `labelsPerDigit` labelled clips per digit, `evaluationSeeds` draws.
    var probeBlock = 1
    var labelsPerDigit = 5
    var evaluationSeeds = 5
    var logisticC = 1.0

    mutating func makeQuick() {
        recipe.steps = 10
        recipe.data2vec.scaleTeacherSchedule(toSteps: 10)
        pretrainingSeeds = 1
        evaluationSeeds = 2
    }

    var neighbourName: String { "1-NN" }

    /// Section 1's account of the protocol.
    func introduction(_ data: AblationData<SpeechFrontEnd>, sections: Int) -> String {
        let r = recipe
        return """
            Every arm is chapter 06's recipe with one field changed: log-mel frames of 10 ms, span masking (p = \
            \(r.frontEnd.masking.probability), spans of \(r.frontEnd.masking.spanLength) frames), an encoder of \
            \(r.encoder.blockCount) post-LN blocks (D = \(r.encoder.dimension)), the FFN outputs of the top K = \
            \(r.data2vec.averageTopKLayers) teacher blocks, instance-normalized over time, L2 loss, pretrained for \(r.steps) \
            steps of \(r.batchSize) clips on FSDD's takes 10-49 of every speaker (\(data.pretrainingCount) clips). Each arm \
            runs with \(pretrainingSeeds) pretraining seeds; seed s starts every arm from the same weights and the same \
            order of batches. Each pretrained encoder is frozen and read as chapter 06 reads it (block \(probeBlock)'s output, \
            its mean and standard deviation over each clip's frames, standardized): logistic regression and the nearest \
            neighbour, each trained on the same \(evaluationSeeds) draws of \(labelsPerDigit) labelled clips per digit. \
            Sections 2-\(sections + 1) score on takes 5-9 (\(data.validationCount) clips, never pretrained on or labelled); \
            section \(sections + 2) on FSDD's test takes 0-4 (\(data.testCount) clips). Nothing is chosen on either.
            """
    }
}

struct Chapter08: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch08-ablations",
                                                    abstract: "The paper's ablations on chapter 05's image model, over pretraining seeds.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "vision (chapter 05's model and MNIST; the default) or speech (chapter 06's log-mel model and spoken digits).") var modality: Modality = .vision
    @Option(help: "headline (top-K and target context; the default) or full (every arm of every ablation, about an hour).") var grid: Grid = .headline
    @Option(help: "Pretraining steps of every arm (default 1200; 10 with --quick).") var pretrainSteps: Int?
    @Option(help: "Pretraining seeds per arm (default 3).") var pretrainingSeeds: Int?
    @Option(help: "Draws of the labelled images (default 5).") var evaluationSeeds: Int?

    func validate() throws {
        if let pretrainSteps, !(10...100_000).contains(pretrainSteps) { throw ValidationError("--pretrain-steps must be between 10 and 100000, got \(pretrainSteps)") }
        if let pretrainingSeeds, !(1...20).contains(pretrainingSeeds) { throw ValidationError("--pretraining-seeds must be between 1 and 20, got \(pretrainingSeeds)") }
        if let evaluationSeeds, !(1...100).contains(evaluationSeeds) { throw ValidationError("--evaluation-seeds must be between 1 and 100, got \(evaluationSeeds)") }
    }

    /// A run's configuration: the modality's defaults, the quick settings, then the flags.
    func configured<Settings: AblationSettings>(_ defaults: Settings) -> Settings {
        var config = defaults
        if options.quick { config.makeQuick() }
        config.grid = grid
        if let pretrainSteps {
            config.recipe.steps = pretrainSteps
            config.recipe.data2vec.scaleTeacherSchedule(toSteps: pretrainSteps)
        }
        if let pretrainingSeeds { config.pretrainingSeeds = pretrainingSeeds }
        if let evaluationSeeds { config.evaluationSeeds = evaluationSeeds }
        return config
    }

    /// The ablations a run measures: every arm with --grid full, else the headline arms of the headline ablations.
    func chosen<Settings: AblationSettings>(_ all: [Ablation<PretrainingRecipe<Settings.FrontEndConfiguration>>], _ config: Settings)
        -> [Ablation<PretrainingRecipe<Settings.FrontEndConfiguration>>] {
        guard config.grid == .headline else { return all }
        return all.compactMap { ablation in config.headlineArms[ablation.key].map { ablation.keeping($0) } }
    }

    func run() throws {
        let chapter = try Chapter(number: 8, title: "the paper's ablations, in small" + (modality == .speech ? ", on speech" : ""), options: options)
        let directory = URL(fileURLWithPath: options.dataDir)
        switch modality {
        case .vision:
            let config = configured(AblationConfig())
            chapter.printConfiguration(config)
            let data = try AblationData.images(config, directory: directory, quick: options.quick, seed: options.seed)
            let ablations = chosen(Ablation.visionGrid(config.recipe), config)
            try runAblations(chapter, config, data, ablations, introduction: config.introduction(data, sections: ablations.count))
        case .speech:
            let config = configured(SpeechAblationConfig())
            chapter.printConfiguration(config)
            let data = try AblationData.clips(config, directory: directory, quick: options.quick, seed: options.seed)
            let ablations = chosen(Ablation.speechGrid(config.recipe), config)
            try runAblations(chapter, config, data, ablations, introduction: config.introduction(data, sections: ablations.count))
        }
        try chapter.finish()
    }

    /// Sections 1 to the last, for either modality.
    func runAblations<Settings: AblationSettings, FrontEnd: ConfiguredFrontEnd>(
        _ chapter: Chapter, _ config: Settings, _ data: AblationData<FrontEnd>,
        _ ablations: [Ablation<PretrainingRecipe<Settings.FrontEndConfiguration>>], introduction: String) throws
    where FrontEnd.Configuration == Settings.FrontEndConfiguration {
        let runs = RunBook(data: data, seeds: config.pretrainingSeeds, baseSeed: options.seed)
        protocolSection(chapter, recipe: config.recipe, introduction: introduction, data, ablations: ablations)    // section 1
        var measured: [MeasuredAblation<Settings.FrontEndConfiguration>] = []
        for (index, ablation) in ablations.enumerated() {                                                          // sections 2-8
            measured.append(try ablationSection(chapter, config, number: index + 2, ablation, runs: runs))
        }
        summary(chapter, config, measured, runs: runs)                                                               // the last
    }
}
