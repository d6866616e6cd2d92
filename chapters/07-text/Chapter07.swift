// # Chapter 07: data2vec on text
//
// What you will learn
//   1. byte-level byte-pair encoding (GPT-2's tokenizer), trained here on four novels and the SST-2 sentences;
//   2. data2vec on text: BERT masking, the teacher's layer-normalized FFN outputs, Smooth L1, a 2-layer head,
//      and the masked language model it is compared with (RoBERTa's objective), at equal compute;
//   3. what the two encoders learned: nearest neighbours of tokens;
//   4. SST-2 sentiment with 1,000 labels and with all 67,349, fine-tuned from data2vec, from the masked LM and
//      from scratch, and linear probes on the frozen encoders.
// Prerequisites: chapters 04-05. Run: `swift run -c release ch07-text` (`--quick`: seconds;
// `--sst2-dev FILE` evaluates on another file of the same format).
// Letters: B batch, T tokens, D width, V vocabulary, K averaged blocks.
//
// The parts, in order: 1-Tokenizer.swift (section 1), 2-Pretraining.swift (2), 3-Neighbours.swift (3),
// 4-Sentiment.swift (4), 5-Summary.swift (5). Every setting is in `TextConfig` below.
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

/// Every knob of a chapter 07 run. Printed at the start of the run.
struct TextConfig {
    /// Pretraining sequences: blocks of 64 tokens (<s> 62 tokens </s>), the benchmark's text-tiny.
    var sequenceLength = 64
    /// The BPE vocabulary (4 specials, 256 bytes, merges, and <mask>) is `frontEnd.vocabularySize`: the tokenizer
    /// learns that many entries and the embedding has that many rows.
    var frontEnd = TextFrontEndConfiguration(vocabularySize: 4096, dimension: 64)
    /// data2vec text's encoder at text-tiny size: post-LN blocks (the embedding LayerNorm is in the front
    /// end), BERT initialization, dropout 0.1 and attention dropout 0.1 as the paper's student.
    var encoder = TransformerConfiguration(blockCount: 4, dimension: 64, headCount: 4, feedForwardDimension: 256, placement: .postLN,
                                           dropout: 0.1, attentionDropout: 0.1, initializer: .normal(std: 0.02))
    /// data2vec text (`text/pretraining/base.yaml`): layer norm per block, no final norm, Smooth L1 with
    /// beta 4, loss scale 1, the D -> 2D -> D head; FFN targets of the top K blocks.
    var data2vec: Data2VecConfig = {
        var c = Data2VecConfig(averageTopKLayers: 3, layerwiseTargetNorm: .layer, emaAnnealEndStep: 1200)
        c.lossBeta = 4
        c.lossScale = 1
        c.headLayers = 2
        c.emaDecay = 0.99
        c.emaEndDecay = 0.999
        return c
    }()
    /// Adam (0.9, 0.98), eps 1e-6, weight decay 0.01, cosine with warm-up (the text code's schedule).
    var pretraining = AdamWConfiguration(peakLearningRate: 2e-3, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.01, warmupFraction: 0.1,
                                         finalFraction: 0.01, clipNorm: 1)
    var pretrainingSteps = 1200
    var batchSize = 64
    /// Add the SST-2 training sentences (text only, no labels) to the tokenizer's and the pretraining text:
    /// in-domain text, as RoBERTa's and data2vec's pretraining corpora contain web text like the reviews.
    var pretrainOnSST2Text = true
    /// Section 5: RoBERTa's fine-tuning (Adam 0.9 / 0.98, weight decay 0.1) at a learning rate for this size.
    var fineTuning = AdamWConfiguration(peakLearningRate: 3e-4, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.1, warmupFraction: 0.06)
    var fineTuningBudget = TrainingBudget(maximumEpochs: 40, maximumSteps: 1600, minimumSteps: 200, batchSize: 32,
                                          minimumStepsBetweenValidations: 50, maximumStepsBetweenValidations: 150, patience: 4,
                                          maximumValidationExamples: 2000)
    /// SST-2 training phrases in the "many labels" setting: all 67,349 (fewer picks a random subset).
    var manyLabels = 67_349
    var fewLabels = 1000
    /// Seeds (labelled subsets and initializations of the head) per setting.
    var fewLabelSeeds = 3
    var manyLabelSeeds = 2
    var probe = LinearProbeConfiguration()
    var maxSentenceTokens = 64
    var checkpointFolder = "checkpoints/ch07-text"

    mutating func makeQuick() {
        pretrainingSteps = 10
        data2vec.emaAnnealEndStep = 10
        manyLabels = 300
        fewLabels = 100
        fewLabelSeeds = 1
        manyLabelSeeds = 1
        fineTuningBudget.maximumSteps = 10
        fineTuningBudget.minimumSteps = 0
        probe.epochs = 2
        probe.minimumSteps = 10
        checkpointFolder = "checkpoints/ch07-text-quick"
    }
}

struct Chapter07: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch07-text", abstract: "data2vec on text: BPE, pretraining, SST-2.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps of each objective (default 1200; 10 with --quick).") var pretrainSteps: Int?
    @Option(help: "Masking: bert (15%, 80/10/10; the paper's main result) or spans (p 0.35 in spans of 4; the shipped config).") var masking = "bert"
    @Flag(help: "Pretrain (and train the tokenizer) on the novels only, without the SST-2 sentences.") var novelsOnly = false
    @Option(help: "An SST-2 dev file to evaluate on (default: <data-dir>/text/sst2_dev.tsv).") var sst2Dev: String?
    @Option(help: "Averaged teacher blocks K (1 to 4).") var topK: Int?
    @Option(help: "BPE vocabulary size: entries the tokenizer learns and rows of the embedding (default 4096; 262 to 65536).") var vocabularySize: Int?
    @Option(help: "Folder for the tokenizer files and the two pretrained checkpoints (default checkpoints/ch07-text).")
    var checkpointFolder: String?

    @Option(help: "Write the data2vec backbone as a Hugging Face Data2VecTextModel into this folder, with the tokenizer (check it with scripts/hf/check.py).")
    var exportHf: String?

    func validate() throws {
        if let pretrainSteps, !(1...1_000_000).contains(pretrainSteps) {
            throw ValidationError("--pretrain-steps must be between 1 and 1000000, got \(pretrainSteps)")
        }
        guard ["bert", "spans"].contains(masking) else { throw ValidationError("--masking must be bert or spans, got \(masking)") }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the model has 4 blocks), got \(topK)") }
        if let vocabularySize, !(262...65_536).contains(vocabularySize) {
            throw ValidationError("--vocabulary-size must be between 262 (the specials, the 256 bytes and <mask>, with one merge) and 65536, got \(vocabularySize)")
        }
    }

    func makeConfig() -> TextConfig {
        var config = TextConfig()
        if options.quick { config.makeQuick() }
        if let pretrainSteps { config.pretrainingSteps = pretrainSteps }
        config.data2vec.emaAnnealEndStep = config.pretrainingSteps
        if masking == "spans" { config.frontEnd.masking = .spans(probability: 0.35, length: 4) }
        config.pretrainOnSST2Text = !novelsOnly
        if let topK { config.data2vec.averageTopKLayers = topK }
        if let vocabularySize { config.frontEnd.vocabularySize = vocabularySize }
        if let checkpointFolder { config.checkpointFolder = checkpointFolder }
        return config
    }

    func run() throws {
        let chapter = try Chapter(number: 7, title: "data2vec on text", options: options)
        var config = makeConfig()
        chapter.printConfiguration(config)
        let folder = URL(fileURLWithPath: config.checkpointFolder)
        try chapter.requireOutputFolder(folder, flag: "--checkpoint-folder")
        for name in ["vocab.json", "merges.txt", "corpus_valid.txt.ids", "data2vec.safetensors", "masked-lm.safetensors"] {
            try chapter.requireOutputFile(folder.appendingPathComponent(name), flag: "--checkpoint-folder")
        }
        if let exportHf { try chapter.requireOutputFolder(URL(fileURLWithPath: exportHf), flag: "--export-hf") }
        let text = try tokenizerSection(chapter, config, folder: folder)                     // section 1
        config.frontEnd.vocabularySize = min(config.frontEnd.vocabularySize, text.tokenizer.vocabularySize)
        let pretrained = try pretrainingSection(chapter, config, text: text, folder: folder)   // section 2
        if let exportHf { try exportHuggingFace(config, text: text, backbone: pretrained.data2vec, to: URL(fileURLWithPath: exportHf)) }
        neighbourSection(chapter, config, text: text, pretrained: pretrained)                  // section 3
        let sentiment = try sentimentSection(chapter, config, text: text, pretrained: pretrained)  // section 4
        summary(chapter, config, text: text, pretrained: pretrained, sentiment: sentiment)    // section 5
        try chapter.finish()
    }
}
