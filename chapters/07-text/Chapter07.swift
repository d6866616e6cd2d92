// # Chapter 07: data2vec on text
//
// What you will learn
//   1. byte-level byte-pair encoding (GPT-2's tokenizer), trained here on four novels and the SST-2 sentences;
//   2. data2vec on text: BERT masking, the teacher's instance-normalized FFN outputs, Smooth L1, a 2-layer head,
//      and the masked language model it is compared with (RoBERTa's objective), at equal compute; by default
//      both are read from the committed long pretraining (`make pretrained`);
//   3. what the two encoders learned: the hidden token, and nearest neighbours in context;
//   4. SST-2 sentiment from 50 to 1,000 labels: fine-tuned from data2vec, from the masked LM and from scratch,
//      beside Naive Bayes and logistic regression on bags of words, on identical labelled subsets;
//   5. bigram shift: word order, with labels that cost nothing and that no bag of words can read;
//   6. the compute curve: what longer pretraining buys.
// Prerequisites: chapters 04-05. Run: `swift run -c release ch07-text` (`--quick`: seconds;
// `--sst2-dev FILE` evaluates on another file of the same format; `--no-pretrained` pretrains here).
// Letters: B batch, T tokens, D width, V vocabulary, K averaged blocks.
//
// The parts, in order: 1-Tokenizer.swift (section 1), 2-Pretraining.swift (2), 3-WhatTheyLearned.swift (3),
// 4-Sentiment.swift (4), 5-BigramShift.swift (5), 6-ComputeCurve.swift (6), 7-Summary.swift (7). Every
// setting is in `TextConfig` below.
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
    /// data2vec text (`text/pretraining/base.yaml`): no final norm, Smooth L1 with beta 4, loss scale 1, the
    /// D -> 2D -> D head; FFN targets of the top K blocks. Each block is instance-normalized over the sequence (data2vec
    /// speech's `instance_norm_target_layer`, data2vec 2.0's text choice) instead of the text config's layer norm:
    /// with layer norm the representations became a code of the whole sequence, the same at every position, and let
    /// go of the token they read (results/trials/ch07-target-norm-*.txt; `--target-norm layer` restores it).
    var data2vec: Data2VecConfig = {
        var c = Data2VecConfig(averageTopKLayers: 3, layerwiseTargetNorm: .instance, emaAnnealEndStep: 1200)
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
    /// Pretraining steps after which a copy of each checkpoint is saved (the compute curve's points).
    var snapshotSteps: [Int] = []
    var batchSize = 64
    /// Dropout of the pretraining student: after the embedding, in the blocks and on attention. The paper's
    /// student uses 0.1; none here, as cramming (Geiping & Goldstein, 2022) pretrains small models (measured in
    /// results/trials/ch07-recipe.txt). Fine-tuning keeps `encoder`'s 0.1 whatever this is.
    var pretrainingDropout: Float = 0
    /// Lower-case the novels before the tokenizer and the pretraining read them: SST-2's files are lower-cased,
    /// so the encoders then see one kind of text (`--cased` keeps the novels' capitals).
    var lowercase = true
    /// Add the SST-2 training sentences (text only, no labels) to the tokenizer's and the pretraining text:
    /// in-domain text, as RoBERTa's and data2vec's pretraining corpora contain web text like the reviews.
    var pretrainOnSST2Text = true
    /// Sections 4-6: RoBERTa's fine-tuning (Adam 0.9 / 0.98, weight decay 0.1, warm-up); the peak learning rate
    /// is each start's own, per task and label count (`sst2Rates`, `shiftRates`).
    var fineTuning = AdamWConfiguration(peakLearningRate: 3e-4, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.1, warmupFraction: 0.06)
    /// One budget rule for every fine-tuning: at most 400 updates of 16 sentences; from 50 labelled sentences on,
    /// 20% held out (at most 1,000), validated every 25 updates, stopped after 4 validations without improvement.
    var classifyBudget = TrainingBudget(maximumEpochs: 400, maximumSteps: 400, minimumSteps: 100, batchSize: 16,
                                        minimumStepsBetweenValidations: 25, maximumStepsBetweenValidations: 25, patience: 4,
                                        maximumValidationExamples: 1000)
    /// The learning rates each start tries with --validation.
    var rateGrid: [Float] = [1e-4, 3e-4, 1e-3]
    /// The poolings each start tries with --validation (max pooling, tried once, lost on both tasks:
    /// results/trials/ch07-max-pooling.txt).
    var poolingGrid: [SentencePooling] = [.first, .mean]
    /// What the classification head reads: the mean of the token vectors, 57.4% against 55.9% for <s> on held-out
    /// SST-2 phrases (each start's and count's best rate, averaged; results/trials/ch07-choices.txt).
    var sentencePooling: SentencePooling = .mean
    /// What the head reads on bigram shift, chosen on held-out bigram-shift examples in the same way.
    var shiftPooling: SentencePooling = .mean
    /// Section 4: labelled SST-2 phrases per count, draws per count, and the counts the goals are about.
    var sst2Counts = [50, 100, 300, 1000]
    var sst2Seeds = 5
    var sst2GoalCounts = [100, 300]
    /// The last rows of the SST-2 training file, never drawn as labels: the held-out phrases settings are chosen on.
    var sst2ValidationPhrases = 2000
    /// Peak learning rates per start and count: each the best of `rateGrid` with the mean pooling on held-out
    /// phrases (--validation; results/trials/ch07-choices.txt).
    var sst2Rates: [String: [Int: Float]] = [
        "data2vec": [50: 1e-3, 100: 1e-4, 300: 3e-4, 1000: 1e-3],
        "masked LM": [50: 1e-4, 100: 3e-4, 300: 1e-3, 1000: 1e-3],
        "from scratch": [50: 1e-4, 100: 3e-4, 300: 3e-4, 1000: 3e-4],
    ]
    /// Section 5: labelled bigram-shift examples per count, draws per count, the goal's count, and rates.
    var shiftCounts = [100, 1000, 10_000]
    var shiftSeeds = [100: 5, 1000: 5, 10_000: 2]
    var shiftGoalCount = 1000
    /// The same, on held-out bigram-shift examples (with 100 labels every start was at chance there, so those
    /// choices are noise; with 1,000, under the longer budget, data2vec read 56.9% at 3e-4).
    var shiftRates: [String: [Int: Float]] = [
        "data2vec": [100: 1e-3, 1000: 3e-4],
        "masked LM": [100: 3e-4, 1000: 3e-4],
        "from scratch": [100: 1e-4, 1000: 1e-3],
    ]
    /// Section 3: the hidden-token probe reads the most frequent tokens at the hidden positions, this many.
    var hiddenTokenClasses = 200
    /// Section 6: the compute curve's label counts are 300 SST-2 phrases and `shiftGoalCount` bigram-shift
    /// examples, over the first `curveSeeds` draws.
    var curveSST2Count = 300
    var curveSeeds = 3
    /// Score on held-out training examples instead of the test sets, to choose settings (--validation).
    var validation = false
    var maxSentenceTokens = 64
    var checkpointFolder = "checkpoints/ch07-text"
    /// The committed pretraining (`make pretrained`) the chapter reads instead of pretraining, when present.
    var pretrainedFolder: String?

    /// The pretraining student's front end and encoder: `frontEnd` and `encoder` with `pretrainingDropout`.
    var pretrainingFrontEnd: TextFrontEndConfiguration {
        var c = frontEnd
        c.dropout = pretrainingDropout
        return c
    }
    var pretrainingEncoder: TransformerConfiguration {
        var c = encoder
        (c.dropout, c.attentionDropout) = (pretrainingDropout, pretrainingDropout)
        return c
    }

    /// The peak learning rate of `start` fine-tuned on `count` labelled SST-2 phrases (3e-4 when not chosen).
    func sst2Rate(_ start: Start, _ count: Int) -> Float { sst2Rates[start.rawValue]?[count] ?? 3e-4 }

    /// The peak learning rate of `start` fine-tuned on `count` labelled bigram-shift examples.
    /// A count without a rate of its own (10,000: not in the grid search, which would take longer than the rest of
    /// it) takes the rate chosen for the largest count below it.
    func shiftRate(_ start: Start, _ count: Int) -> Float {
        let chosen = shiftRates[start.rawValue] ?? [:]
        return chosen[count] ?? chosen.filter { $0.key < count }.max { $0.key < $1.key }?.value ?? 3e-4
    }
    /// Bigram shift's budget grows with its labels: from `longShiftCount` labelled examples on (below 10,000) at most
    /// `longShiftUpdates` updates of 16 (32 passes over 1,000 examples) and no early stop before half of them. Under
    /// `classifyBudget`'s rule (at most 400 updates, 6.4 passes over 1,000) every start stopped on chance's plateau:
    /// on held-out examples data2vec read 52.7% with it and 56.9% with 2,000 updates, scratch 50.5% and 50.4%
    /// (results/trials/ch07-shift-budget.txt).
    var longShiftCount = 1000
    var longShiftUpdates = 2000
    /// Below 10,000 labelled bigram-shift examples, this many updates at most and no early stop before half of them,
    /// for every count (`--shift-updates`, a trial; nil: the rule above).
    var shiftUpdates: Int?
    /// The budget for `count` labelled bigram-shift examples: `classifyBudget`, with up to `longShiftUpdates`
    /// updates of 16 from `longShiftCount` on and up to 2,000 updates of 32 from 10,000 on.
    func shiftBudget(_ count: Int) -> TrainingBudget {
        var budget = classifyBudget
        if count >= 10_000 {
            (budget.maximumSteps, budget.batchSize, budget.minimumStepsBetweenValidations, budget.maximumStepsBetweenValidations) = (2000, 32, 100, 100)
        } else if let updates = shiftUpdates ?? (count >= longShiftCount ? longShiftUpdates : nil) {
            (budget.maximumSteps, budget.minimumSteps) = (updates, updates / 2)
            budget.maximumEpochs = max(budget.maximumEpochs, updates)
        }
        return budget
    }

    mutating func makeQuick() {
        pretrainingSteps = 10
        data2vec.emaAnnealEndStep = 10
        sst2Counts = [50]
        sst2Seeds = 1
        classifyBudget.maximumSteps = 10
        classifyBudget.minimumSteps = 0
        rateGrid = [1e-3]
        shiftCounts = [100]
        shiftSeeds = [100: 1]
        shiftGoalCount = 100
        longShiftUpdates = 10
        curveSST2Count = 50
        curveSeeds = 1
        snapshotSteps = [5]
        hiddenTokenClasses = 20
        checkpointFolder = "checkpoints/ch07-text-quick"
    }
}

extension TargetNormalization: ExpressibleByArgument {}

extension SentencePooling: ExpressibleByArgument {
    /// `first` (or `<s>`), `mean` or `max`.
    public init?(argument: String) {
        self.init(rawValue: argument == "first" ? SentencePooling.first.rawValue : argument)
    }
    public static var allValueStrings: [String] { ["first", "mean", "max"] }
}

struct Chapter07: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch07-text", abstract: "data2vec on text: BPE, pretraining, SST-2.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps of each objective (default 1200; 10 with --quick).") var pretrainSteps: Int?
    @Option(help: "Masking: bert (15%, 80/10/10; the paper's main result) or spans (p 0.35 in spans of 4; the shipped config).") var masking = "bert"
    @Flag(help: "Pretrain (and train the tokenizer) on the novels only, without the SST-2 sentences.") var novelsOnly = false
    @Option(help: "Masked fraction of BERT masking (default 0.15).") var maskRate: Double?
    @Option(help: "Dropout of the pretraining student (embedding, blocks, attention; default 0; the paper's is 0.1).") var pretrainingDropout: Float?
    @Flag(help: "Keep the novels' capitals (default: lower-cased, as SST-2's text is).") var cased = false
    @Option(help: "Peak learning rate of both pretrainings (default 0.002).") var pretrainingRate: Float?
    @Flag(help: "Score on held-out training examples, every rate of the grid and both poolings: how the chapter's settings were chosen.")
    var validation = false
    @Option(parsing: .upToNextOption, help: "With --validation, the learning rates to search (default 0.0001 0.0003 0.001).") var rateGrid: [Float] = []
    @Option(parsing: .upToNextOption, help: "With --validation, the poolings to search: first (the output at <s>), mean, max (default first mean).")
    var poolingGrid: [SentencePooling] = []
    @Option(help: "Bigram shift below 10,000 labels: at most this many updates, no early stop before half of them (default: at most 400 updates below 1,000 labels, 2,000 from 1,000 on).")
    var shiftUpdates: Int?
    @Flag(help: "Pretrain, save the two checkpoints (and --snapshot-steps copies) with the tokenizer, and stop: what `make pretrained` runs.")
    var pretrainOnly = false
    @Option(parsing: .upToNextOption, help: "Pretraining steps after which copies of both checkpoints are saved.") var snapshotSteps: [Int] = []
    @Option(help: "An SST-2 dev file to evaluate on (default: <data-dir>/text/sst2_dev.tsv).") var sst2Dev: String?
    @Option(help: "Averaged teacher blocks K (1 to 4).") var topK: Int?
    @Option(help: "Normalization of each teacher block's output before averaging: layer (over the channels of each token, data2vec 1.0's text config) or instance (over the tokens of each sequence, per channel: data2vec speech's, and data2vec 2.0's text config).")
    var targetNorm: TargetNormalization?
    @Option(help: "BPE vocabulary size: entries the tokenizer learns and rows of the embedding (default 4096; 262 to 65536).") var vocabularySize: Int?
    @Option(help: "Folder for the tokenizer files and the two pretrained checkpoints (default checkpoints/ch07-text).")
    var checkpointFolder: String?
    @Option(help: "Read both pretrained encoders (and their snapshots) from this folder instead of pretraining (default: pretrained/ch07-text, when present).")
    var pretrained: String?
    @Flag(help: "Pretrain here even when committed checkpoints are present.") var noPretrained = false

    @Option(help: "Write the data2vec backbone as a Hugging Face Data2VecTextModel into this folder, with the tokenizer (check it with scripts/hf/check.py).")
    var exportHf: String?

    func validate() throws {
        if let pretrainSteps, !(1...1_000_000).contains(pretrainSteps) {
            throw ValidationError("--pretrain-steps must be between 1 and 1000000, got \(pretrainSteps)")
        }
        if let maskRate, !(0.01...0.9).contains(maskRate) { throw ValidationError("--mask-rate must be between 0.01 and 0.9, got \(maskRate)") }
        if let maskRate, masking != "bert" { throw ValidationError("--mask-rate \(maskRate) sets BERT masking's fraction; leave out --masking \(masking)") }
        if let pretrainingDropout, !(0...0.9).contains(pretrainingDropout) {
            throw ValidationError("--pretraining-dropout must be between 0 and 0.9, got \(pretrainingDropout)")
        }
        if pretrained != nil && (noPretrained || pretrainSteps != nil) {
            throw ValidationError("--pretrained reads finished checkpoints; leave out --no-pretrained and --pretrain-steps, or leave out --pretrained")
        }
        if let pretrainingRate, !(1e-6...1).contains(pretrainingRate) { throw ValidationError("--pretraining-rate must be between 1e-6 and 1, got \(pretrainingRate)") }
        if let bad = snapshotSteps.first(where: { $0 < 1 }) { throw ValidationError("--snapshot-steps must be positive, got \(bad)") }
        guard ["bert", "spans"].contains(masking) else { throw ValidationError("--masking must be bert or spans, got \(masking)") }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the model has 4 blocks), got \(topK)") }
        if let bad = rateGrid.first(where: { !($0 > 0 && $0 < 1) }) { throw ValidationError("--rate-grid values must be in (0, 1), got \(bad)") }
        if !rateGrid.isEmpty && !validation { throw ValidationError("--rate-grid is the search of --validation; add --validation, or leave it out") }
        if !poolingGrid.isEmpty && !validation { throw ValidationError("--pooling-grid is the search of --validation; add --validation, or leave it out") }
        if let shiftUpdates, !(2...100_000).contains(shiftUpdates) { throw ValidationError("--shift-updates must be between 2 and 100000, got \(shiftUpdates)") }
        if targetNorm == TargetNormalization.none { throw ValidationError("--target-norm must be layer or instance (a block's raw output is not a usable target)") }
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
        if let maskRate { config.frontEnd.masking = .bert(selection: maskRate) }
        if let pretrainingDropout { config.pretrainingDropout = pretrainingDropout }
        if let pretrainingRate { config.pretraining.peakLearningRate = pretrainingRate }
        if cased { config.lowercase = false }
        if !snapshotSteps.isEmpty { config.snapshotSteps = snapshotSteps }
        config.validation = validation
        if !rateGrid.isEmpty { config.rateGrid = rateGrid }
        if !poolingGrid.isEmpty { config.poolingGrid = poolingGrid }
        if let shiftUpdates { config.shiftUpdates = shiftUpdates }
        let committed = "pretrained/ch07-text"
        // A flag that changes the pretraining asks for a pretraining of its own.
        let recipeChanged = masking != "bert" || maskRate != nil || pretrainingDropout != nil || cased || pretrainingRate != nil
            || novelsOnly || topK != nil || vocabularySize != nil || (targetNorm.map { $0 != config.data2vec.layerwiseTargetNorm } ?? false)
        let useCommitted = !options.quick && !noPretrained && pretrainSteps == nil && !pretrainOnly && !recipeChanged
            && FileManager.default.fileExists(atPath: committed + "/" + checkpointName("data2vec"))
        config.pretrainedFolder = pretrained ?? (useCommitted ? committed : nil)
        config.pretrainOnSST2Text = !novelsOnly
        if let topK { config.data2vec.averageTopKLayers = topK }
        if let targetNorm { config.data2vec.layerwiseTargetNorm = targetNorm }
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
        // Choosing settings (--validation) reads only sections 4 and 5.
        let probe = config.validation ? HiddenTokenProbe() : learnedSection(chapter, config, text: text, pretrained: pretrained)  // 3
        if pretrainOnly { return try chapter.finish() }
        let sentiment = try sentimentSection(chapter, config, text: text, pretrained: pretrained)  // section 4
        let shift = try bigramShiftSection(chapter, config, text: text, pretrained: pretrained)   // section 5
        if config.validation { return try chapter.finish() }
        let curve = try computeCurveSection(chapter, config, text: text, pretrained: pretrained, probe: probe, sentiment: sentiment, shift: shift)  // 6
        summary(chapter, config, text: text, pretrained: pretrained, probe: probe, sentiment: sentiment, shift: shift, curve: curve)  // 7
        try chapter.finish()
    }
}
