// # Chapter 06: data2vec on speech
//
// What you will learn
//   1. how a waveform becomes a sequence: wav2vec 2.0's convolutional feature encoder, frames of 10 ms,
//      a convolutional positional encoder, and span masking over time;
//   2. data2vec pretraining on unlabelled spoken digits (FSDD), with instance-normalized targets from the
//      teacher's FFN outputs and the collapse monitor;
//   3. which digit is spoken, from 1 to 50 labelled clips per digit: frozen features read by nearest neighbours
//      and logistic regression, against a random encoder and log-mel statistics;
//   4. the same few labels fine-tuning the whole encoder, against the same network trained from scratch;
//   5. what longer pretraining buys: complete runs of 1,200 to 8,000 steps, scored the same way;
//   6. speech recognition of digit strings with CTC, fine-tuned from data2vec and trained from scratch
//      with 1%, 10% and 100% of the labelled strings: the paper's low-resource result, in small.
// Prerequisites: chapters 04-05. Run: `swift run -c release ch06-speech` (`--quick`: seconds;
// `--test-speakers NAME` holds out a whole speaker; `--reuse-checkpoint` skips pretraining).
// Letters: B batch, L samples, T frames, D width, C symbols (blank + 10 digits), K averaged blocks.
//
// The parts, in order: 1-Audio.swift (section 1), 2-Pretraining.swift (2), 3-FewLabels.swift (3),
// 4-FineTuning.swift (4), 5-ComputeCurve.swift (5), 6-Recognition.swift (6), 7-Summary.swift (7). Every setting is in `SpeechConfig` below.
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

/// Every knob of a chapter 06 run. Printed at the start of the run.
struct SpeechConfig {
    /// wav2vec 2.0's CNN at 8 kHz (10 ms frames), span masking p 0.65, l 20, and data2vec speech's convolutional
    /// positions over the same span in time: 5 grouped convolutions of kernel 37 frames of 10 ms (upstream: 19
    /// of 20 ms), 1.8 s of context. On the validation split they read 70.2% against 68.1% with 3 of kernel 9
    /// (results/trials/ch06-positions-summary.txt).
    var frontEnd: SpeechFrontEndConfiguration = {
        var c = SpeechFrontEndConfiguration(dimension: 64)
        c.features = .logmel
        (c.positionDepth, c.positionKernel) = (5, 37)
        return c
    }()
    /// A post-LN encoder with wav2vec 2.0's input LayerNorm, BERT initialization N(0, 0.02), and the paper's
    /// student regularization: dropout 0.1, attention dropout 0.1, layerdrop 0.05.
    var encoder = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN,
                                           inputLayerNorm: true, dropout: 0.1, attentionDropout: 0.1, layerDrop: 0.05,
                                           initializer: .normal(std: 0.02))
    /// data2vec speech's targets: FFN outputs of the top K blocks, instance-normalized over time, averaged,
    /// no final normalization; L2 loss times 1 / sqrt(D); a Linear head.
    var data2vec: Data2VecConfig = {
        var c = Data2VecConfig(averageTopKLayers: 3, layerwiseTargetNorm: .instance, emaAnnealEndStep: 1200)
        c.emaDecay = 0.99
        c.emaEndDecay = 0.999
        return c
    }()
    /// Adam (0.9, 0.98), eps 1e-6, weight decay 0.01, as data2vec speech; the tri-stage schedule.
    var pretraining = AdamWConfiguration(peakLearningRate: 2e-3, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.01, warmupFraction: 0.1,
                                         finalFraction: 0.05, shape: .triStage(hold: 0.5), clipNorm: 3)
    var pretrainingSteps = 1200
    /// Steps after which a copy of the backbone is saved beside the checkpoint (the compute curve reads them).
    var snapshotSteps: [Int] = []
    /// The committed pretraining runs evaluated beside the chapter's own (`make pretrained`): several lengths,
    /// three pretraining seeds each.
    var pretrained: [String] = []
    /// The length whose runs the headline reports and sections 4 and 6 fine-tune: the best of the committed lengths on
    /// the validation split (results/trials/ch06-views.txt).
    var headlineSteps = 1200
    var batchSize = 32
    /// Clips longer than this many samples are cropped to a random window (1 s; fairseq `max_sample_size`).
    var maximumSamples = 8000
    /// Section 3: labelled clips per digit, draws of them, and logistic regression's C (scikit-learn's default).
    var labelsPerDigit = [1, 5, 10, 50]
    var evaluationSeeds = 5
    var logisticC = 1.0
    /// The view of the pooled features the tables report (see `viewNames`): chosen on the validation split.
    var probeView = "block 1"
    /// Each block's pooled output, their average, all of them side by side, and SUPERB's learned weighted sum.
    var viewNames: [String] { (1...encoder.blockCount).map { "block \($0)" } + ["average of blocks", "all blocks", "weighted sum of blocks"] }
    /// Section 4: fine-tuning the whole encoder to read one clip's digit from the same labelled draws as section 3
    /// (1, 5 and 10 per digit, the first `classifyDraws` draws, each from another pretraining seed), against the same
    /// network trained from scratch: wav2vec 2.0's fine-tuning dropouts below, no masking (`classifyMaskProbability`),
    /// one budget rule, and each arm's peak learning rate, the best of 5e-4, 1e-3 and 2e-3 on the validation split
    /// (results/trials/ch06-classify-rates.txt).
    var classifyLabelsPerDigit = [1, 5, 10]
    var classifyDraws = 3
    /// Time and channel masking while fine-tuning a classifier, in section 6's spans (20 frames, 5 channels), with
    /// this probability for both; 0: none. Fine-tuning's time masking hides at least one span of 20 frames in every
    /// clip (`min_masks`), 40% of a 50-frame digit: with it both arms read worse on the validation split.
    var classifyMaskProbability: Float = 0
    var classifyFineTuningRate: Float = 1e-3
    var classifyScratchRate: Float = 1e-3
    /// At most 300 updates of 16 clips; from 50 labelled clips on, a fifth is held out, validated every 25
    /// updates and the best kept.
    var classifyBudget = TrainingBudget(maximumEpochs: 300, maximumSteps: 300, minimumSteps: 100, batchSize: 16,
                                        minimumStepsBetweenValidations: 25, maximumStepsBetweenValidations: 25, patience: 4,
                                        minimumExamplesForValidation: 50)
    /// Section 6: digit strings from the training clips (each clip once) and from the test clips (each 3 times).
    var testStringPasses = 3
    var labelFractions = [0.01, 0.1, 1.0]
    var recognitionSeeds = [0.01: 2, 0.1: 2, 1.0: 1]
    /// CTC fine-tuning and training from scratch: the same model, optimizer, masking, dropouts and budget rule.
    /// Both train every weight, the CNN included (wav2vec 2.0 freezes its pretrained CNN; frozen in both, the
    /// scratch model would keep a random CNN: see README).
    var frozenCNN = false
    /// Adam with wav2vec 2.0's tri-stage schedule ([0.1, 0.4, 0.5], final scale 0.05, eps 1e-8); the peak
    /// learning rate per arm and fraction of labelled strings below.
    var fineTuning = AdamWConfiguration(peakLearningRate: 5e-4, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.01, warmupFraction: 0.1,
                                        finalFraction: 0.05, shape: .triStage(hold: 0.4), clipNorm: 3)
    /// Peak learning rates, per fraction of labelled strings, for the pretrained encoder and from scratch: each the
    /// best of 5e-4, 2e-3 and 5e-3 on strings made of held-out training clips (`--validation`,
    /// results/trials/ch06-ctc-choices.txt); 2e-3 won for both recognizers at every fraction.
    var fineTuningRates: [Double: Float] = [0.01: 2e-3, 0.1: 2e-3, 1.0: 2e-3]
    var scratchRates: [Double: Float] = [0.01: 2e-3, 0.1: 2e-3, 1.0: 2e-3]
    /// 1,500 to 3,000 updates and at most 600 passes over the strings: no early stop before 1,500, which takes every
    /// run off CTC's all-blank plateau. With a cap of 1,000 every run with 10% of the strings reached it; with 3,000
    /// they stopped by themselves, between 1,500 and 2,300 (results/trials/ch06-ctc-steps.txt). Six labelled strings
    /// (1%) are too few to hold any out: 200 passes over them.
    var fineTuningBudget: TrainingBudget = {
        var b = TrainingBudget(maximumEpochs: 600, maximumSteps: 3000, minimumSteps: 1500, batchSize: 8, minimumStepsBetweenValidations: 100,
                               maximumStepsBetweenValidations: 100, patience: 3, minimumExamplesForValidation: 20)
        b.maximumEpochsWithoutValidation = 200
        return b
    }()
    /// With every labelled string (no goal there: the labelled and the unlabelled audio are the same clips), at most
    /// 1,500 updates and no early stop before 1,000, so that the chapter runs in 10 minutes.
    var allStringsMaximumSteps = 1500

    /// The CTC budget rule for a fraction of the labelled strings: `fineTuningBudget`, capped with every string.
    func recognitionBudget(_ fraction: Double) -> TrainingBudget {
        var budget = fineTuningBudget
        if fraction >= 1 {
            budget.maximumSteps = min(budget.maximumSteps, allStringsMaximumSteps)
            budget.minimumSteps = min(budget.minimumSteps, 2 * budget.maximumSteps / 3)
        }
        return budget
    }
    /// wav2vec 2.0's fine-tuning for up to an hour of labels (examples/wav2vec/config/finetuning/base_10m.yaml,
    /// base_1h.yaml; 64 strings are about 3.5 minutes): no dropout or attention dropout in the encoder, activation
    /// dropout 0.1, layerdrop 0.1, no final dropout.
    var fineTuneEncoder: TransformerConfiguration {
        var e = encoder
        (e.dropout, e.attentionDropout, e.activationDropout, e.layerDrop) = (0, 0, 0.1, 0.1)
        return e
    }
    var finalDropout: Float = 0
    /// Time masking `mask_prob` 0.65 in spans of `mask_length` 10 frames of 20 ms (20 of 10 ms here); channel
    /// masking `mask_channel_prob` 0.25 in spans of `mask_channel_length` 64 of 768 channels (5 of 64 here).
    var fineTuneMasking = SpanMasking(probability: 0.65, spanLength: 20)
    var channelMasking = SpanMasking(probability: 0.25, spanLength: 5, minimumSpans: 0)
    /// `freeze_finetune_updates`: the pretrained encoder stays frozen (only the output layer learns) for the first
    /// updates; 10,000 of 13,000 in base_10m.yaml. Not for the scratch model, whose encoder is random.
    var freezeUpdates = 0
    /// The CTC output layer reads one frame of 10 ms per step; two at once (steps of 20 ms, wav2vec 2.0's frame rate)
    /// read worse for both recognizers with 10% of the strings on the validation split
    /// (results/trials/ch06-ctc-steps.txt).
    var ctcFramesPerStep = 1
    var checkpoint = "checkpoints/ch06-speech-logmel.safetensors"
    /// The other front end, pretrained beside this one in section 2 and compared in section 3 (nil: none).
    var comparedFrontEnd: SpeechFeatures? = .waveform
    /// Where its backbone goes: the checkpoint's name with "-waveform" or "-logmel" before the extension.
    var comparedCheckpoint: String? {
        comparedFrontEnd.map { checkpoint.replacingOccurrences(of: ".safetensors", with: "-compared-\($0.rawValue).safetensors") }
    }

    mutating func makeQuick() {
        pretrainingSteps = 10
        data2vec.emaAnnealEndStep = 10
        labelsPerDigit = [1, 5]
        evaluationSeeds = 2
        testStringPasses = 1
        classifyLabelsPerDigit = [1]
        classifyDraws = 1
        classifyBudget.maximumSteps = 4
        classifyBudget.minimumSteps = 0
        labelFractions = [0.1]
        recognitionSeeds = [0.1: 1]
        fineTuningBudget.maximumSteps = 6
        fineTuningBudget.minimumSteps = 0
        allStringsMaximumSteps = 6
        checkpoint = "checkpoints/ch06-speech-quick.safetensors"
    }
}

extension SpeechFeatures: ExpressibleByArgument {}

struct Chapter06: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch06-speech", abstract: "data2vec on spoken digits: pretraining, few-label digits, CTC.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps (default 1200; 10 with --quick).") var pretrainSteps: Int?
    @Option(help: "What makes frames of the waveform: waveform (wav2vec 2.0's CNN, the paper's) or logmel (40 log-mel energies every 10 ms).")
    var frontEnd: SpeechFeatures?
    @Flag(help: "Pretrain and compare only the front end of --front-end, not the other one beside it.") var oneFrontEnd = false
    @Option(help: "Hold out every clip of these speakers (comma-separated names from speakers.txt) instead of FSDD's takes 0-4.")
    var testSpeakers: String?
    @Option(help: "Span length in frames of 10 ms (default 20 = 200 ms, the paper's 10 frames of 20 ms).") var spanLength: Int?
    @Option(help: "Averaged teacher blocks K (1 to 4).") var topK: Int?
    @Option(help: "Span masking's p: a span starts at a frame with probability p / span length (default 0.65, the paper's).")
    var maskProbability: Double?
    @Option(parsing: .upToNextOption, help: "The teacher's tau at the start and at the end of pretraining (default 0.99 0.999).")
    var emaDecays: [Float] = []
    @Option(help: "Peak learning rate of pretraining (default 0.002).") var pretrainingRate: Float?
    @Option(help: "Dropout, attention dropout and layerdrop of the pretraining student, one value for all three (default: 0.1, 0.1, 0.05, the paper's).")
    var pretrainingDropout: Float?
    @Option(help: "Convolutional positions: layers (default 5, data2vec speech's).") var positionDepth: Int?
    @Option(help: "Convolutional positions: odd kernel in frames of 10 ms (default 37, data2vec speech's 19 frames of 20 ms; the chapter's first choice: 9).") var positionKernel: Int?
    @Option(help: "Encoder frames of 10 ms per CTC output step (default 1; 2 = 20 ms, wav2vec 2.0's frame rate; 1 to 4).") var ctcFramesPerStep: Int?
    @Flag(help: "Fine-tune with the CNN frozen (wav2vec 2.0's recipe), in both recognizers, instead of training every weight.")
    var frozenCNN = false
    @Flag(help: "Skip pretraining and evaluate the checkpoint (on the data of --data-dir).") var reuseCheckpoint = false
    @Flag(help: "Pretrain, save the checkpoint (and --snapshot-steps copies), and stop: what `make pretrained` runs.") var pretrainOnly = false
    @Flag(help: "Stop after section 3 (the frozen-feature probes): what the pretraining-recipe trials run.") var frozenOnly = false
    @Option(parsing: .upToNextOption, help: "Steps after which to save a copy of the backbone beside the checkpoint (name-stepNNNNN.safetensors).")
    var snapshotSteps: [Int] = []
    @Option(parsing: .upToNextOption, help: "Committed pretraining checkpoints to evaluate (default: pretrained/ch06-speech-FRONTEND/*.safetensors, when present).")
    var pretrained: [String] = []
    @Flag(help: "Evaluate only the chapter's own run, not the committed long ones.") var noPretrained = false
    @Flag(help: "Score on training clips of takes 5-9 (strings made of them) instead of the test clips, with labels from the other training clips: the split this chapter's choices were made on.")
    var validation = false
    @Option(parsing: .upToNextOption, help: "Fractions of the labelled strings for CTC (default 0.01 0.1 1).") var labelFractions: [Double] = []
    @Option(help: "The view of the pooled features section 3 reports: block 1-4, average of blocks, all blocks, or weighted sum of blocks.") var view: String?
    @Option(help: "Peak learning rate of CTC fine-tuning, every fraction (default: per fraction, chosen with --validation).") var fineTuneLearningRate: Float?
    @Option(help: "Peak learning rate of CTC from scratch, every fraction (default: per fraction, chosen with --validation).") var scratchLearningRate: Float?
    @Option(help: "Peak learning rate of section 4's digit classifiers, both arms (default: per arm, chosen with --validation).")
    var classifyLearningRate: Float?
    @Option(help: "Time and channel masking probability of section 4's digit classifiers (default 0: none; section 6's recipe is 0.65 and 0.25).")
    var classifyMaskProbability: Float?
    @Option(help: "Most updates of a CTC run (default 1000; no early stop before half of them; the cap of passes over the strings scales with it).")
    var ctcUpdates: Int?
    @Option(help: "Updates with the pretrained encoder frozen at the start of CTC fine-tuning (freeze_finetune_updates; default 0).") var freezeUpdates: Int?
    @Option(help: "Where the pretrained backbone is written and read (safetensors).") var checkpoint: String?
    @Option(help: "Write the pretrained waveform backbone as a Hugging Face Data2VecAudioModel into this folder (check it with scripts/hf/check.py).")
    var exportHf: String?

    func validate() throws {
        if let pretrainSteps, !(1...1_000_000).contains(pretrainSteps) {
            throw ValidationError("--pretrain-steps must be between 1 and 1000000, got \(pretrainSteps)")
        }
        if let spanLength, !(1...200).contains(spanLength) { throw ValidationError("--span-length must be between 1 and 200 frames, got \(spanLength)") }
        if let ctcFramesPerStep, !(1...4).contains(ctcFramesPerStep) {
            throw ValidationError("--ctc-frames-per-step must be between 1 and 4, got \(ctcFramesPerStep)")
        }
        if let positionDepth, !(0...8).contains(positionDepth) { throw ValidationError("--position-depth must be between 0 and 8, got \(positionDepth)") }
        if let positionKernel, !(1...99).contains(positionKernel) || positionKernel % 2 == 0 {
            throw ValidationError("--position-kernel must be odd, between 1 and 99, got \(positionKernel)")
        }
        if let maskProbability, !(maskProbability > 0 && maskProbability < 1) {
            throw ValidationError("--mask-probability must be in (0, 1), got \(maskProbability)")
        }
        if !emaDecays.isEmpty, emaDecays.count != 2 || !emaDecays.allSatisfy({ $0 > 0 && $0 < 1 }) || emaDecays[0] > emaDecays[1] {
            throw ValidationError("--ema-decays takes two values in (0, 1), start then end, the end not below the start; got \(emaDecays)")
        }
        if let pretrainingRate, !(pretrainingRate > 0 && pretrainingRate < 1) {
            throw ValidationError("--pretraining-rate must be in (0, 1), got \(pretrainingRate)")
        }
        if let pretrainingDropout, !(0..<1).contains(pretrainingDropout) {
            throw ValidationError("--pretraining-dropout must be in [0, 1), got \(pretrainingDropout)")
        }
        if frozenOnly && pretrainOnly { throw ValidationError("--frozen-only and --pretrain-only contradict each other; give one") }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the model has 4 blocks), got \(topK)") }
        if let testSpeakers, testSpeakers.split(separator: ",").isEmpty { throw ValidationError("--test-speakers needs at least one name") }
        if reuseCheckpoint && (pretrainOnly || pretrainSteps != nil) {
            throw ValidationError("--reuse-checkpoint skips pretraining; it cannot go with --pretrain-only or --pretrain-steps")
        }
        if let bad = snapshotSteps.first(where: { $0 < 1 }) { throw ValidationError("--snapshot-steps must be positive, got \(bad)") }
        if noPretrained && !pretrained.isEmpty { throw ValidationError("--no-pretrained and --pretrained contradict each other; give one") }
        if let bad = labelFractions.first(where: { !($0 > 0 && $0 <= 1) }) { throw ValidationError("--label-fractions must be in (0, 1], got \(bad)") }
        for (flag, rate) in [("--fine-tune-learning-rate", fineTuneLearningRate), ("--scratch-learning-rate", scratchLearningRate),
                             ("--classify-learning-rate", classifyLearningRate)] {
            if let rate, !(rate > 0 && rate < 1) { throw ValidationError("\(flag) must be in (0, 1), got \(rate)") }
        }
        if let view, !SpeechConfig().viewNames.contains(view) {
            throw ValidationError("--view must be one of \(SpeechConfig().viewNames.map { "'\($0)'" }.joined(separator: ", ")), got '\(view)'")
        }
        if let ctcUpdates, !(2...100_000).contains(ctcUpdates) { throw ValidationError("--ctc-updates must be between 2 and 100000, got \(ctcUpdates)") }
        if let classifyMaskProbability, !(0..<1).contains(classifyMaskProbability) {
            throw ValidationError("--classify-mask-probability must be in [0, 1), got \(classifyMaskProbability)")
        }
        if exportHf != nil, frontEnd != .waveform, oneFrontEnd || pretrainOnly {
            throw ValidationError("--export-hf writes the waveform backbone (the log-mel front end has no Hugging Face counterpart): add --front-end waveform, "
                                  + "or drop --one-front-end / --pretrain-only so that the chapter pretrains the waveform CNN beside the log-mel one")
        }
        if let freezeUpdates, !(0...100_000).contains(freezeUpdates) { throw ValidationError("--freeze-updates must be between 0 and 100000, got \(freezeUpdates)") }
    }

    func makeConfig() -> SpeechConfig {
        var config = SpeechConfig()
        if options.quick { config.makeQuick() }
        if let pretrainSteps { config.pretrainingSteps = pretrainSteps }
        config.data2vec.emaAnnealEndStep = config.pretrainingSteps
        if let spanLength { config.frontEnd.masking.spanLength = spanLength }
        if let topK { config.data2vec.averageTopKLayers = topK }
        if let maskProbability { config.frontEnd.masking.probability = maskProbability }
        if emaDecays.count == 2 { (config.data2vec.emaDecay, config.data2vec.emaEndDecay) = (emaDecays[0], emaDecays[1]) }
        if let pretrainingRate { config.pretraining.peakLearningRate = pretrainingRate }
        if let p = pretrainingDropout { (config.encoder.dropout, config.encoder.attentionDropout, config.encoder.layerDrop) = (p, p, p) }
        if let positionDepth { config.frontEnd.positionDepth = positionDepth }
        if let positionKernel { config.frontEnd.positionKernel = positionKernel }
        if let frontEnd {
            config.frontEnd.features = frontEnd
            config.comparedFrontEnd = SpeechFeatures.allCases.first { $0 != frontEnd }
            if !options.quick { config.checkpoint = "checkpoints/ch06-speech-\(frontEnd.rawValue).safetensors" }
        }
        if oneFrontEnd || pretrainOnly { config.comparedFrontEnd = nil }
        if let checkpoint { config.checkpoint = checkpoint }
        config.snapshotSteps = snapshotSteps
        if !labelFractions.isEmpty {
            config.labelFractions = labelFractions
            config.recognitionSeeds = Dictionary(uniqueKeysWithValues: labelFractions.map { ($0, config.recognitionSeeds[$0] ?? 1) })
        }
        for fraction in config.labelFractions {
            if let fineTuneLearningRate { config.fineTuningRates[fraction] = fineTuneLearningRate }
            if let scratchLearningRate { config.scratchRates[fraction] = scratchLearningRate }
        }
        if let freezeUpdates { config.freezeUpdates = freezeUpdates }
        if let ctcUpdates {
            let b = config.fineTuningBudget
            config.fineTuningBudget.maximumEpochs = max(1, b.maximumEpochs * ctcUpdates / b.maximumSteps)
            (config.fineTuningBudget.maximumSteps, config.fineTuningBudget.minimumSteps) = (ctcUpdates, ctcUpdates / 2)
            config.allStringsMaximumSteps = ctcUpdates
        }
        if let classifyMaskProbability { config.classifyMaskProbability = classifyMaskProbability }
        if let classifyLearningRate { (config.classifyFineTuningRate, config.classifyScratchRate) = (classifyLearningRate, classifyLearningRate) }
        if let view { config.probeView = view }
        config.pretrained = pretrained.isEmpty ? defaultPretrained(config.frontEnd.features) : pretrained
        if noPretrained || pretrainOnly || options.quick && pretrained.isEmpty { config.pretrained = [] }
        if frozenCNN { config.frozenCNN = true }
        if let ctcFramesPerStep { config.ctcFramesPerStep = ctcFramesPerStep }
        return config
    }

    /// The committed runs of `make pretrained` for a front end: pretrained/ch06-speech-NAME/*.safetensors, and with
    /// --test-speakers those pretrained without them, pretrained/ch06-speech-NAME-without-SPEAKERS/ (names sorted,
    /// joined by "-"). Section 3 leaves out any that heard a test clip.
    func defaultPretrained(_ features: SpeechFeatures) -> [String] {
        var folders = ["pretrained/ch06-speech-\(features.rawValue)"]
        if let testSpeakers {
            let names = testSpeakers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            folders.append("pretrained/ch06-speech-\(features.rawValue)-without-\(names.joined(separator: "-"))")
        }
        return folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted().map { "\(folder)/\($0)" }
        }
    }

    func run() throws {
        let chapter = try Chapter(number: 6, title: "data2vec on speech", options: options)
        let config = makeConfig()
        chapter.printConfiguration(config)
        let checkpoint = URL(fileURLWithPath: config.checkpoint)
        try chapter.requireOutputFile(checkpoint, flag: "--checkpoint", reading: reuseCheckpoint)
        if let exportHf { try chapter.requireOutputFolder(URL(fileURLWithPath: exportHf), flag: "--export-hf") }
        // The committed runs named on the command line are checked before any work: they exist, they are checkpoints
        // of this chapter and of this front end (what they heard is checked against the test clips in section 3).
        for path in pretrained {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ChapterError("--pretrained \(path): no such file. Pretrain it with this chapter (--pretrain-only), or leave the flag out.")
            }
            let frontEnd = try Checkpoint.load(URL(fileURLWithPath: path)).metadata["front_end"]
            if let frontEnd, frontEnd != config.frontEnd.features.rawValue {
                throw ChapterError("--pretrained \(path) was pretrained with --front-end \(frontEnd); run with --front-end \(frontEnd), or give a checkpoint of \(config.frontEnd.features.rawValue)")
            }
        }
        let data = try loadSpeech(chapter, config)                                              // section 1
        let pretraining = try pretrainingSection(chapter, config, frontEnd: config.frontEnd, data: data, checkpoint: checkpoint)  // section 2
        var compared: ShortRun?
        if let other = config.comparedFrontEnd, let path = config.comparedCheckpoint {
            var frontEnd = config.frontEnd
            frontEnd.features = other
            let url = URL(fileURLWithPath: path)
            try chapter.requireOutputFile(url, flag: "--checkpoint (its -compared- copy)", reading: reuseCheckpoint)
            let run = try pretrainingSection(chapter, config, frontEnd: frontEnd, data: data, checkpoint: url)
            compared = ShortRun(frontEnd: frontEnd, checkpoint: url, pretraining: run)
        }
        if let exportHf {
            let waveform = config.frontEnd.features == .waveform ? (config.frontEnd, checkpoint) : compared.map { ($0.frontEnd, $0.checkpoint) }
            if let (frontEnd, url) = waveform { try exportHuggingFace(frontEnd, config, checkpoint: url, data: data, to: URL(fileURLWithPath: exportHf)) }
        }
        if pretrainOnly { return try chapter.finish() }
        let fewLabels = try fewLabelSection(chapter, config, data: data, checkpoint: checkpoint, compared: compared)  // section 3
        if frozenOnly { return try chapter.finish() }
        let fineTuned = try fineTuningSection(chapter, config, data: data, fewLabels: fewLabels)  // section 4
        let curve = computeCurveSection(chapter, config, fewLabels: fewLabels)                // section 5
        let recognition = try recognitionSection(chapter, config, data: data, sources: fewLabels.sources)  // section 6
        summary(chapter, config, data: data, pretraining: pretraining, fewLabels: fewLabels, fineTuned: fineTuned, curve: curve,
                recognition: recognition)  // section 7
        try chapter.finish()
    }
}
