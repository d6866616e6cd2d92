// # Chapter 06: data2vec on speech
//
// What you will learn
//   1. how a waveform becomes a sequence: wav2vec 2.0's convolutional feature encoder, frames of 10 ms,
//      a convolutional positional encoder, and span masking over time;
//   2. data2vec pretraining on unlabelled spoken digits (FSDD), with instance-normalized targets from the
//      teacher's FFN outputs and the collapse monitor;
//   3. a probe: which digit is spoken, from frozen features, against a random encoder and log-mel filterbanks;
//   4. speech recognition of digit strings with CTC, fine-tuned from data2vec and trained from scratch
//      with 1%, 10% and 100% of the labelled strings: the paper's low-resource result, in small.
// Prerequisites: chapters 04-05. Run: `swift run -c release ch06-speech` (`--quick`: seconds;
// `--test-speakers NAME` holds out a whole speaker; `--reuse-checkpoint` skips pretraining).
// Letters: B batch, L samples, T frames, D width, C symbols (blank + 10 digits), K averaged blocks.
//
// The parts, in order: 1-Audio.swift (section 1), 2-Pretraining.swift (2), 3-Probe.swift (3),
// 4-Recognition.swift (4), 5-Summary.swift (5). Every setting is in `SpeechConfig` below.
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
    /// wav2vec 2.0's CNN at 8 kHz (10 ms frames), 3 grouped position convolutions, span masking p 0.65, l 20.
    var frontEnd = SpeechFrontEndConfiguration(dimension: 64)
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
    var batchSize = 32
    /// Clips longer than this many samples are cropped to a random window (1 s; fairseq `max_sample_size`).
    var maximumSamples = 8000
    var probe = LinearProbeConfiguration()
    var probeSeeds = 3
    /// Section 4: digit strings from the training clips (each clip once) and from the test clips (each 3 times).
    var testStringPasses = 3
    var labelFractions = [0.01, 0.1, 1.0]
    var recognitionSeeds = [0.01: 2, 0.1: 2, 1.0: 1]
    /// CTC fine-tuning and training from scratch: the same model, optimizer and budget rule (not the same learning
    /// rate: see below). Both train every weight, the CNN included (wav2vec 2.0 freezes its pretrained CNN; frozen
    /// in both, the scratch model would keep a random CNN: see README).
    var frozenCNN = false
    /// Adam with wav2vec 2.0's tri-stage schedule. The learning rates differ: a quarter of the pretraining rate for
    /// the pretrained encoder (wav2vec 2.0 fine-tunes at a tenth), the pretraining rate itself from scratch; each
    /// was the better of the two on strings held out of the training set (results/trials/ch06-ctc-trials.txt).
    var fineTuning = AdamWConfiguration(peakLearningRate: 5e-4, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.01, warmupFraction: 0.1,
                                        finalFraction: 0.05, shape: .triStage(hold: 0.4), clipNorm: 3)
    var scratchTraining = AdamWConfiguration(peakLearningRate: 2e-3, beta2: 0.98, epsilon: 1e-8, weightDecay: 0.01, warmupFraction: 0.1,
                                             finalFraction: 0.05, shape: .triStage(hold: 0.4), clipNorm: 3)
    /// 500 to 1000 updates: no early stop before 500, which takes every run off CTC's all-blank plateau. Six
    /// labelled strings (1%) are too few to hold any out: 200 passes over them.
    var fineTuningBudget = TrainingBudget(maximumEpochs: 200, maximumSteps: 1000, minimumSteps: 500, batchSize: 8,
                                          minimumStepsBetweenValidations: 100, maximumStepsBetweenValidations: 100, patience: 3,
                                          minimumExamplesForValidation: 20)
    /// Time masking while fine-tuning (wav2vec 2.0 fine-tunes with `mask_prob` 0.65 in low-resource settings);
    /// 0 here: at this size masking slowed CTC's escape from predicting only blanks.
    var fineTuneMasking = SpanMasking(probability: 0, spanLength: 10)
    var finalDropout: Float = 0.1
    /// The CTC output layer reads 2 frames of 10 ms at once: CTC steps of 20 ms, wav2vec 2.0's frame rate.
    var ctcFramesPerStep = 2
    var checkpoint = "checkpoints/ch06-speech.safetensors"

    mutating func makeQuick() {
        pretrainingSteps = 10
        data2vec.emaAnnealEndStep = 10
        probeSeeds = 1
        probe.epochs = 3
        probe.minimumSteps = 10
        testStringPasses = 1
        labelFractions = [0.1]
        recognitionSeeds = [0.1: 1]
        fineTuningBudget.maximumSteps = 6
        fineTuningBudget.minimumSteps = 0
        checkpoint = "checkpoints/ch06-speech-quick.safetensors"
    }
}

struct Chapter06: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch06-speech", abstract: "data2vec on spoken digits: pretraining, probe, CTC.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps (default 1200; 10 with --quick).") var pretrainSteps: Int?
    @Option(help: "Hold out every clip of these speakers (comma-separated names from speakers.txt) instead of FSDD's takes 0-4.")
    var testSpeakers: String?
    @Option(help: "Span length in frames of 10 ms (default 20 = 200 ms, the paper's 10 frames of 20 ms).") var spanLength: Int?
    @Option(help: "Averaged teacher blocks K (1 to 4).") var topK: Int?
    @Option(help: "Encoder frames of 10 ms per CTC output step (default 2 = 20 ms; 1 to 4).") var ctcFramesPerStep: Int?
    @Flag(help: "Fine-tune with the CNN frozen (wav2vec 2.0's recipe), in both recognizers, instead of training every weight.")
    var frozenCNN = false
    @Flag(help: "Skip pretraining and evaluate the checkpoint (on the data of --data-dir).") var reuseCheckpoint = false
    @Option(help: "Where the pretrained backbone is written and read (safetensors).") var checkpoint: String?

    func validate() throws {
        if let pretrainSteps, !(1...1_000_000).contains(pretrainSteps) {
            throw ValidationError("--pretrain-steps must be between 1 and 1000000, got \(pretrainSteps)")
        }
        if let spanLength, !(1...200).contains(spanLength) { throw ValidationError("--span-length must be between 1 and 200 frames, got \(spanLength)") }
        if let ctcFramesPerStep, !(1...4).contains(ctcFramesPerStep) {
            throw ValidationError("--ctc-frames-per-step must be between 1 and 4, got \(ctcFramesPerStep)")
        }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the model has 4 blocks), got \(topK)") }
        if let testSpeakers, testSpeakers.split(separator: ",").isEmpty { throw ValidationError("--test-speakers needs at least one name") }
    }

    func makeConfig() -> SpeechConfig {
        var config = SpeechConfig()
        if options.quick { config.makeQuick() }
        if let pretrainSteps { config.pretrainingSteps = pretrainSteps }
        config.data2vec.emaAnnealEndStep = config.pretrainingSteps
        if let spanLength { config.frontEnd.masking.spanLength = spanLength }
        if let topK { config.data2vec.averageTopKLayers = topK }
        if let checkpoint { config.checkpoint = checkpoint }
        if frozenCNN { config.frozenCNN = true }
        if let ctcFramesPerStep { config.ctcFramesPerStep = ctcFramesPerStep }
        return config
    }

    func run() throws {
        let chapter = try Chapter(number: 6, title: "data2vec on speech", options: options)
        let config = makeConfig()
        chapter.printConfiguration(config)
        let checkpoint = URL(fileURLWithPath: config.checkpoint)
        try chapter.requireOutputFile(checkpoint, flag: "--checkpoint", reading: reuseCheckpoint)
        let data = try loadSpeech(chapter, config)                                              // section 1
        let pretraining = try pretrainingSection(chapter, config, data: data, checkpoint: checkpoint)  // section 2
        let probe = try probeSection(chapter, config, data: data, checkpoint: checkpoint)       // section 3
        let recognition = try recognitionSection(chapter, config, data: data, checkpoint: checkpoint)  // section 4
        summary(chapter, config, data: data, pretraining: pretraining, probe: probe, recognition: recognition)  // section 5
        try chapter.finish()
    }
}
