// # Chapter 04: data2vec, the algorithm
//
// What you will learn
//   1. the three masking policies (speech spans, image blocks, BERT tokens), drawn and measured;
//   2. the EMA teacher and its tau schedule;
//   3. how a target is built from the teacher's top K blocks, and why each block is normalized;
//   4. the loss, at the masked positions only;
//   5. representation collapse: what happens without target normalization, or with a teacher that is
//      the student (tau = 0), measured with fairseq's variance monitor.
// Prerequisites: chapters 02-03. Run: `swift run -c release ch04-data2vec` (`--quick`: seconds).
// Letters: B batch, T time steps (or patches, or tokens), D width, K averaged blocks, tau the EMA decay.
//
// The parts, in order: 1-Masking.swift, 2-Teacher.swift, 3-Targets.swift, 4-Loss.swift, 5-Collapse.swift,
// 6-Summary.swift. Every setting of the run is in `Data2VecChapterConfig` below.
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import NN
import Optim

/// One pretraining run of the collapse experiment (section 5): what it changes from data2vec as specified.
struct CollapseRun: Sendable {
    var name: String
    var layerwiseNorm: TargetNormalization
    var tau: (start: Float, end: Float)
}

/// Every knob of a chapter 04 run. Printed at the start of the run.
struct Data2VecChapterConfig {
    /// Section 1: speech's span masking (p, l), measured per row at several lengths and in a batch.
    var spanMasking = SpanMasking(probability: 0.65, spanLength: 10)
    var spanLengths = [100, 200, 500, 1000]
    var spanDraws = 400
    /// A batch of B rows of T frames, where `require_same_masks` trims every row to the smallest count.
    var spanBatch = (rows: 12, length: 200)
    /// Image blocks on the 7 x 7 grid: 29 patches, blocks of at least 4.
    var blockMasking = BlockMasking(rows: 7, columns: 7, targetCount: 29, minimumBlock: 4)
    /// BERT: 15% of the tokens, 80% of those shown as <mask>, 10% random, 10% unchanged.
    var bertSelection = 0.15
    /// Section 3: K blocks averaged into a target.
    var topK = 4
    /// Section 5: the collapse experiment. A small post-LN encoder (with wav2vec 2.0's input LayerNorm) on
    /// smooth synthetic signals, at a deliberately high learning rate.
    var collapseEncoder = TransformerConfiguration(blockCount: 4, dimension: 32, headCount: 4, feedForwardDimension: 128,
                                                   placement: .postLN, inputLayerNorm: true)
    var signal = (batch: 16, length: 40, features: 8)
    var collapseMasking = SpanMasking(probability: 0.65, spanLength: 5)
    var collapseSteps = 600
    var collapseOptimizer = AdamWConfiguration(peakLearningRate: 2e-2, weightDecay: 0.01, warmupFraction: 0.1)
    var collapseRuns = [CollapseRun(name: "(a) data2vec", layerwiseNorm: .instance, tau: (0.999, 0.9999)),
                        CollapseRun(name: "(b) raw targets", layerwiseNorm: .none, tau: (0.999, 0.9999)),
                        CollapseRun(name: "(c) tau = 0", layerwiseNorm: .instance, tau: (0, 0))]

    /// A `--quick` run: fewer draws and steps.
    mutating func makeQuick() {
        spanDraws = 50
        collapseSteps = 25
    }
}

struct Chapter04: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch04-data2vec", abstract: "Masking, teacher, targets, loss, collapse.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Rows of the span-masked batch of section 1 (default 12).") var spanBatch: Int?
    @Option(help: "Per-block target normalization of runs (a) and (c): instance (speech) or layer (text, vision).") var layerwiseNorm: String?
    @Option(help: "Averaged teacher blocks K in sections 3 and 5 (1 to 4).") var topK: Int?
    @Option(help: "tau of run (c) (default 0: the teacher is the student).") var collapseTau: Float?

    func validate() throws {
        if let spanBatch, !(1...4096).contains(spanBatch) { throw ValidationError("--span-batch must be between 1 and 4096, got \(spanBatch)") }
        if let layerwiseNorm, !["instance", "layer"].contains(layerwiseNorm) {
            throw ValidationError("--layerwise-norm must be instance or layer, got \(layerwiseNorm)")
        }
        if let topK, !(1...4).contains(topK) { throw ValidationError("--top-k must be between 1 and 4 (the encoders have 4 blocks), got \(topK)") }
        if let collapseTau, !(0...1).contains(collapseTau) { throw ValidationError("--collapse-tau must be between 0 and 1, got \(collapseTau)") }
    }

    func makeConfig() -> Data2VecChapterConfig {
        var config = Data2VecChapterConfig()
        if options.quick { config.makeQuick() }
        if let spanBatch { config.spanBatch.rows = spanBatch }
        if let topK { config.topK = topK }
        if let layerwiseNorm {
            let norm: TargetNormalization = layerwiseNorm == "layer" ? .layer : .instance
            config.collapseRuns[0].layerwiseNorm = norm
            config.collapseRuns[2].layerwiseNorm = norm
        }
        if let collapseTau {
            config.collapseRuns[2].tau = (collapseTau, collapseTau)
            config.collapseRuns[2].name = "(c) tau = \(collapseTau)"
        }
        return config
    }

    func run() throws {
        let chapter = try Chapter(number: 4, title: "data2vec, the algorithm", options: options)
        let config = makeConfig()
        chapter.printConfiguration(config)
        maskingPolicies(chapter, config)    // section 1
        teacherSchedule(chapter, config)    // section 2
        targetConstruction(chapter, config) // section 3
        lossSection(chapter, config)        // section 4
        let collapse = try collapseExperiment(chapter, config)  // section 5
        summary(chapter, config, collapse: collapse)            // section 6
        try chapter.finish()
    }
}
