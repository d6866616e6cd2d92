// Chapter 07, section 2: data2vec on text, and the masked language model beside it, at equal compute.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import Interop
import NN
import Plot

/// The first loss that was not a number, shared by the two pretrainings that run side by side: both stop there.
final class DivergenceStop: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (what: String, value: Float, step: Int)?

    /// Records the divergence (the first one wins).
    func set(_ what: String, _ value: Float, step: Int) {
        lock.lock()
        defer { lock.unlock() }
        if first == nil { first = (what, value, step) }
    }
    var divergence: (what: String, value: Float, step: Int)? {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
    var isSet: Bool { divergence != nil }
}

/// The two pretrained backbones and what their runs measured.
struct TextPretraining {
    var data2vec: TextBackbone
    var languageModel: TextBackbone
    /// Pretraining steps of the two backbones.
    var steps: Int
    /// Where they come from: "this run", or the folder of committed checkpoints they were read from.
    var source: String
    /// Empty when read from checkpoints (their run's log holds them).
    var data2vecMetrics: [StepMetrics]
    var languageModelMetrics: [LanguageModelMetrics]
    var seconds: Double
    /// The masked LM on the validation novel: accuracy at the chosen positions, and perplexity.
    var validationAccuracy: Float
    var validationPerplexity: Float
    /// Copies saved during the pretraining (the compute curve), in order of steps.
    var snapshots: [Snapshot] = []
}

/// Both objectives' checkpoints after the same number of pretraining steps.
struct Snapshot {
    var steps: Int
    var data2vec: URL
    var languageModel: URL
}

extension Chapter07 {
    func pretrainingSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, folder: URL) throws -> TextPretraining {
        chapter.section("2. data2vec on text, and the masked language model beside it")
        let d2v = config.data2vec, e = config.pretrainingEncoder
        if let source = config.pretrainedFolder {
            return try loadPretrained(chapter, config, text: text, from: URL(fileURLWithPath: source))
        }
        chapter.say("""
            The encoder is the benchmark's text-tiny: token embeddings and learned positions (fairseq's \
            `make_positions`: padding gets position 1, tokens count up from 2), their LayerNorm and dropout \
            (Sources/Data2Vec/Text/TextFrontEnd.swift), then \(e.blockCount) post-LN blocks (D = \(e.dimension), FFN \
            \(e.feedForwardDimension), dropout \(e.dropout), attention dropout \(e.attentionDropout)). The student reads \
            the text after \(maskingDescription(config.frontEnd.masking)); the loss is taken only where the student sees <mask> \
            (fairseq's `src_tokens.eq(mask_idx)`). The teacher reads the unmasked text (the paper's teacher; \
            fairseq's public code feeds it only the masked tokens, reported as a bug in fairseq#4881). Targets: the \
            FFN outputs of the teacher's top K = \(d2v.averageTopKLayers) blocks, each \(targetNormDescription(d2v.layerwiseTargetNorm)), \
            averaged, no final normalization; Smooth L1 with beta \(d2v.lossBeta), scale \(d2v.lossScale ?? 0); the head is \
            D -> 2D -> GELU -> D. \(config.pretrainingSteps) steps of \(config.batchSize) blocks \
            (\(String(format: "%.1f", Double(config.pretrainingSteps * config.batchSize) / Double(max(1, text.trainBlocks.count)))) passes over \
            the text), tau \(d2v.emaDecay) -> \(d2v.emaEndDecay).
            """)
        chapter.say("""
            The baseline is BERT's and RoBERTa's objective with the same encoder, data, masking, steps and \
            optimizer: predict the original token at every chosen position (the <mask>, random and unchanged ones) \
            with a softmax over the \(config.frontEnd.vocabularySize) tokens, whose output weights are the token embedding \
            itself (tied), after RoBERTa's dense + GELU + LayerNorm head. Both pretrainings start from the same \
            initialization and run side by side, one per core.
            """)
        let stop = DivergenceStop()
        // Copies after --snapshot-steps steps, for the compute curve; a failed write stops both runs.
        func saveSnapshot(_ backbone: TextBackbone, _ objective: String, step: Int, heldOut: [String: String] = [:]) {
            guard config.snapshotSteps.contains(step), step < config.pretrainingSteps else { return }
            let url = snapshotURL(folder.appendingPathComponent(checkpointName(objective)), step: step)
            do {
                let metadata = provenance(config, text: text, objective: objective, steps: step).merging(heldOut) { $1 }
                    .merging(["seed": "\(options.seed)"]) { $1 }
                try Checkpoint.save(backbone, metadata: metadata, to: url)
                print("  snapshot of \(objective) after \(step) steps: \(url.relativePath)")
            } catch { stop.set("writing \(url.path): \(error)", .nan, step: step) }
        }
        let (runs, seconds) = measure {
            Parallel.independentJobs(2) { job -> (backbone: TextBackbone, d2v: [StepMetrics], lm: [LanguageModelMetrics], validation: (accuracy: Float, perplexity: Float)) in
                var rng = RandomGenerator(seed: options.seed.derived("pretraining"))
                let backbone = TextBackbone(frontEnd: config.pretrainingFrontEnd, encoder: config.pretrainingEncoder, using: &rng)
                var order = ShuffledBatches(Array(text.trainBlocks.indices), size: config.batchSize)
                let progress = ProgressLine(job == 0 ? "data2vec" : "masked LM", total: config.pretrainingSteps)
                if job == 0 {
                    let trainer = Data2VecTrainer(frontEnd: backbone.frontEnd, student: backbone.encoder, config: d2v, optimization: config.pretraining,
                                                  totalSteps: config.pretrainingSteps, headInitializer: config.encoder.initializer, using: &rng)
                    var metrics: [StepMetrics] = []
                    for step in 1...config.pretrainingSteps where !stop.isSet {
                        let m = trainer.step(TextBatch(order.next(using: &rng).map { text.trainBlocks[$0] }), using: &rng)
                        guard m.loss.isFinite else { stop.set("the data2vec loss", m.loss, step: step); break }
                        progress.update(step: step, ["loss": m.loss, "target var": m.targetVariance, "pred var": m.predictionVariance])
                        metrics.append(m)
                        saveSnapshot(backbone, "data2vec", step: step)
                    }
                    return (backbone, metrics, [], (0, 0))
                }
                let trainer = MaskedLanguageModelTrainer(backbone: backbone, optimization: config.pretraining, totalSteps: config.pretrainingSteps, using: &rng)
                var metrics: [LanguageModelMetrics] = []
                for step in 1...config.pretrainingSteps where !stop.isSet {
                    let m = trainer.step(TextBatch(order.next(using: &rng).map { text.trainBlocks[$0] }), using: &rng)
                    guard m.loss.isFinite else { stop.set("the masked LM loss", m.loss, step: step); break }
                    progress.update(step: step, ["loss": m.loss, "accuracy": m.accuracy])
                    metrics.append(m)
                    if config.snapshotSteps.contains(step) && step < config.pretrainingSteps {
                        let heldOut = heldOutAccuracy(trainer, text: text)
                        print(String(format: "  masked LM after %d steps: held-out accuracy %.1f%%", step, 100 * heldOut.accuracy))
                        saveSnapshot(backbone, "masked LM", step: step, heldOut: ["held-out accuracy": "\(heldOut.accuracy)"])
                    }
                }
                if stop.isSet { return (backbone, [], metrics, (0, 0)) }
                return (backbone, [], metrics, heldOutAccuracy(trainer, text: text))
            }
        }
        let (d2vRun, lmRun) = (runs[0], runs[1])
        let validation = lmRun.validation
        if let (what, value, step) = stop.divergence { try chapter.requireFinite(value, what, step: step) }
        print("  both pretrainings took \(formatDuration(seconds)) side by side")
        // The seed is recorded, not checked: runs of any seed are read alike (files without it were seed 0).
        let seed = ["seed": "\(options.seed)"]
        try Checkpoint.save(d2vRun.backbone, metadata: provenance(config, text: text, objective: "data2vec", steps: config.pretrainingSteps)
                                .merging(seed) { $1 },
                            to: folder.appendingPathComponent(checkpointName("data2vec")))
        try Checkpoint.save(lmRun.backbone, metadata: provenance(config, text: text, objective: "masked LM", steps: config.pretrainingSteps)
                                .merging(["held-out accuracy": "\(validation.accuracy)", "held-out perplexity": "\(validation.perplexity)"]) { $1 }
                                .merging(seed) { $1 },
                            to: folder.appendingPathComponent(checkpointName("masked LM")))
        let afterWarmup = d2vRun.d2v.dropFirst(Int(config.pretraining.warmupFraction * Float(config.pretrainingSteps)))
        let lowestTarget = afterWarmup.map(\.targetVariance).min() ?? 0, lowestPrediction = afterWarmup.map(\.predictionVariance).min() ?? 0
        print(String(format: "  data2vec: last loss %.4f; lowest target / prediction variance after warm-up %.3f / %.3f",
                     d2vRun.d2v.last!.loss, lowestTarget, lowestPrediction))
        // The accuracy of always guessing the validation novel's most frequent token, the floor a language model must clear.
        var counts: [Int: Int] = [:]
        for block in text.validBlocks { for token in block where token > BytePairEncoding.unknown { counts[token, default: 0] += 1 } }
        let (mostFrequent, frequency) = counts.max { $0.value < $1.value } ?? (0, 0)
        let unigram = Float(frequency) / Float(max(1, counts.values.reduce(0, +)))
        print(String(format: "  masked LM: last loss %.3f; on the validation novel: accuracy %.1f%% at the chosen positions, perplexity %.1f (always guessing '%@', the most frequent token: %.1f%%)",
                     lmRun.lm.last!.loss, 100 * validation.accuracy, validation.perplexity, text.tokenizer.symbol(mostFrequent), 100 * unigram))
        let steps = (1...config.pretrainingSteps).map(Double.init)
        chapter.figure("07-pretraining.png") { path throws(PlotError) in
            var top = Figure(title: "data2vec on text: loss and the collapse monitor", xLabel: "step", yLabel: "value")
            top.add(.line(x: steps, y: movingAverage(d2vRun.d2v.map { Double($0.loss) }, window: 25), title: "loss (moving average of 25)"))
            top.add(.line(x: steps, y: d2vRun.d2v.map { Double($0.targetVariance) }, title: "target variance"))
            top.add(.line(x: steps, y: d2vRun.d2v.map { Double($0.predictionVariance) }, title: "prediction variance"))
            var bottom = Figure(title: "The masked language model: loss and accuracy at the chosen positions", xLabel: "step", yLabel: "value")
            bottom.add(.line(x: steps, y: movingAverage(lmRun.lm.map { Double($0.loss) }, window: 25), title: "cross-entropy (moving average of 25)"))
            bottom.add(.line(x: steps, y: movingAverage(lmRun.lm.map { Double($0.accuracy) }, window: 25), title: "accuracy (moving average of 25)"))
            try Figure.renderStacked([top, bottom], to: path)
        }
        if !options.quick {
            chapter.check(lowestTarget > 0.1 && lowestPrediction > 0.01,
                          String(format: "data2vec does not collapse: variances above fairseq's floors after warm-up (%.3f, %.3f)", lowestTarget, lowestPrediction))
            // A claim about BERT masking, the default; with spans (exercise 1) it is an outcome to report.
            let learned = validation.accuracy > 1.5 * unigram
            let statement = String(format: "the masked LM predicts held-out tokens better than always guessing the most frequent one (%.1f%% vs %.1f%%)",
                                   100 * validation.accuracy, 100 * unigram)
            if case .bert = config.frontEnd.masking { chapter.check(learned, statement) } else { chapter.outcome(learned, statement) }
        }
        let snapshots = config.snapshotSteps.filter { $0 < config.pretrainingSteps }.sorted().map { snapshot(in: folder, steps: $0) }
        return TextPretraining(data2vec: d2vRun.backbone, languageModel: lmRun.backbone, steps: config.pretrainingSteps, source: "this run",
                               data2vecMetrics: d2vRun.d2v, languageModelMetrics: lmRun.lm, seconds: seconds,
                               validationAccuracy: validation.accuracy, validationPerplexity: validation.perplexity, snapshots: snapshots)
    }

    /// The masked LM on the validation novel, in evaluation mode, with the same masks every time: accuracy at the
    /// chosen positions, and perplexity. Leaves the model in evaluation mode (its next step sets training mode).
    func heldOutAccuracy(_ trainer: MaskedLanguageModelTrainer, text: TextData) -> (accuracy: Float, perplexity: Float) {
        trainer.backbone.eval()
        trainer.head.eval()
        var maskRNG = RandomGenerator(seed: options.seed.derived("validation masks"))
        var (lossSum, positions, correct) = (0.0, 0, 0)
        for chunk in chunks(Array(text.validBlocks.indices), size: 64) {
            let (loss, n, right) = Tensor.withoutGradients { trainer.evaluate(TextBatch(chunk.map { text.validBlocks[$0] }), using: &maskRNG) }
            lossSum += Double(loss.item) * Double(n)
            positions += n
            correct += right
        }
        return (Float(correct) / Float(max(1, positions)), Float(exp(lossSum / Double(max(1, positions)))))
    }

    /// The two snapshot files saved after `steps` steps in `folder`.
    func snapshot(in folder: URL, steps: Int) -> Snapshot {
        Snapshot(steps: steps, data2vec: snapshotURL(folder.appendingPathComponent(checkpointName("data2vec")), step: steps),
                 languageModel: snapshotURL(folder.appendingPathComponent(checkpointName("masked LM")), step: steps))
    }

    /// A pretrained backbone read from `url`, after checking that it was pretrained with this run's tokenizer and
    /// recipe; with its metadata.
    func readPretrained(_ url: URL, _ config: TextConfig, text: TextData) throws -> (backbone: TextBackbone, metadata: [String: String]) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ChapterError("--pretrained: \(url.relativePath) is missing. Run `make pretrained`, or give --no-pretrained to pretrain here.")
        }
        var rng = RandomGenerator(seed: 0)
        let backbone = TextBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let metadata: [String: String]
        do { metadata = try Checkpoint.load(url).metadata } catch { throw ChapterError("--pretrained: \(error)") }
        let expected = provenance(config, text: text, objective: metadata["objective"] ?? "", steps: 0)
        // data2vec checkpoints made before --target-norm existed do not record it: their targets were layer-normalized.
        var recorded = metadata
        if metadata["objective"] == "data2vec" && metadata["target norm"] == nil { recorded["target norm"] = TargetNormalization.layer.rawValue }
        for key in expected.keys.sorted() where !["objective", "steps", "of steps"].contains(key) && recorded[key] != expected[key] {
            throw ChapterError("--pretrained: \(url.relativePath) was pretrained with \(key) \(recorded[key] ?? "(not recorded)"), "
                               + "this run has \(expected[key]!). Give the flags it was made with (its log is in results/pretrained/), "
                               + "or --no-pretrained to pretrain here.")
        }
        do { try Checkpoint.load(url, into: backbone) } catch { throw ChapterError("--pretrained: \(error)") }
        return (backbone, metadata)
    }

    /// Reads the two committed checkpoints (`make pretrained`) from `folder`, and finds their snapshots.
    func loadPretrained(_ chapter: Chapter, _ config: TextConfig, text: TextData, from folder: URL) throws -> TextPretraining {
        let d2v = try readPretrained(folder.appendingPathComponent(checkpointName("data2vec")), config, text: text)
        let lm = try readPretrained(folder.appendingPathComponent(checkpointName("masked LM")), config, text: text)
        let steps = Int(d2v.metadata["steps"] ?? "") ?? 0
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let snapshotSteps = files.compactMap { name -> Int? in
            guard name.hasPrefix("data2vec-step"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst("data2vec-step".count).dropLast(".safetensors".count))
        }.sorted()
        let passes = Double(steps * config.batchSize) / Double(max(1, text.trainBlocks.count))
        chapter.say("""
            The two encoders are read from \(folder.relativePath): \(steps) steps of each objective \
            (\(String(format: "%.0f", passes)) passes over the text, \(config.batchSize) blocks of \(config.sequenceLength) tokens per \
            step), pretrained side by side with seed \(d2v.metadata["seed"] ?? "0") by `make pretrained` (its log: \
            results/pretrained/\(folder.lastPathComponent).txt)\
            \(snapshotSteps.isEmpty ? "" : ", with copies after \(snapshotSteps.map(String.init).joined(separator: ", ")) steps for section 6"). \
            --no-pretrained pretrains here instead (\(config.pretrainingSteps) steps by default).
            """)
        let accuracy = Float(lm.metadata["held-out accuracy"] ?? "") ?? .nan, perplexity = Float(lm.metadata["held-out perplexity"] ?? "") ?? .nan
        print(String(format: "  masked LM after %d steps: on the validation novel, accuracy %.1f%% at the chosen positions, perplexity %.1f",
                     steps, 100 * accuracy, perplexity))
        return TextPretraining(data2vec: d2v.backbone, languageModel: lm.backbone, steps: steps, source: folder.relativePath,
                               data2vecMetrics: [], languageModelMetrics: [], seconds: 0, validationAccuracy: accuracy,
                               validationPerplexity: perplexity, snapshots: snapshotSteps.map { snapshot(in: folder, steps: $0) })
    }
}

extension Chapter07 {
    /// Writes the data2vec backbone as Hugging Face's Data2VecTextModel with the tokenizer's files, and the outputs
    /// of the first two SST-2 dev sentences for scripts/hf/check.py (Sources/Interop/TextModel+HuggingFace.swift
    /// has the name map).
    func exportHuggingFace(_ config: TextConfig, text: TextData, backbone: TextBackbone, to folder: URL) throws {
        let texts = Array(text.sst2Dev.sentences.prefix(2))
        let sentences = texts.map { sentence in
            Array(([BytePairEncoding.beginning] + text.tokenizer.encode(sentence)).prefix(config.frontEnd.maxPositions - 1)) + [BytePairEncoding.end]
        }
        try backbone.exportHuggingFace(to: folder, tokenizer: text.tokenizer, sentences: sentences, texts: texts)
        print("\n  Exported the data2vec backbone as a Hugging Face Data2VecTextModel to \(folder.relativePath) "
              + "(check it: python3 scripts/hf/check.py \(folder.relativePath))")
    }
}

/// The checkpoint file of an objective ("data2vec" or "masked LM").
func checkpointName(_ objective: String) -> String { objective == "data2vec" ? "data2vec.safetensors" : "masked-lm.safetensors" }

/// What a checkpoint records about its pretraining: the objective, the steps, the recipe's fields that change
/// the weights, and the tokenizer's fingerprint (a checkpoint is read only with the tokenizer it learned with).
func provenance(_ config: TextConfig, text: TextData, objective: String, steps: Int) -> [String: String] {
    ["objective": objective, "steps": "\(steps)", "of steps": "\(config.pretrainingSteps)", "masking": "\(config.frontEnd.masking)",
     "dropout": "\(config.pretrainingDropout)", "lowercase": "\(config.lowercase)", "tokenizer": "\(text.tokenizer.fingerprint)",
     "learning rate": "\(config.pretraining.peakLearningRate)"]
        .merging(objective == "data2vec" ? ["target norm": config.data2vec.layerwiseTargetNorm.rawValue] : [:]) { $1 }
}

/// Each teacher block's normalization in words, as the chapter's prose gives it.
func targetNormDescription(_ norm: TargetNormalization) -> String {
    switch norm {
    case .layer: return "layer-normalized over the channels of each token (data2vec 1.0's text config, `layer_norm_target_layer`)"
    case .instance: return "instance-normalized: each channel over the tokens of its sequence (`instance_norm_target_layer`, data2vec speech's and data2vec 2.0's text choice)"
    case .none: return "left as it is"
    }
}

/// The masking in words, as the chapter's prose gives it.
func maskingDescription(_ masking: TextMasking) -> String {
    switch masking {
    case .bert(let selection):
        return "BERT masking: \(Int((100 * selection).rounded()))% of the tokens are chosen, 80% of those shown as <mask>, 10% replaced by a "
            + "random token, 10% left as they are"
    case .spans(let probability, let length):
        return "span masking (data2vec's shipped text config): spans of \(length) tokens, each token starting one with probability "
            + "\(probability) / \(length), every chosen token shown as <mask>"
    }
}
