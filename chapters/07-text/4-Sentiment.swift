// Chapter 07, section 4: SST-2 sentiment. Fine-tuning from data2vec, from the masked LM and from scratch, with
// few labels and with many; linear probes on the frozen encoders.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim
import Plot

/// Dev accuracies per label budget and encoder, over seeds; and the probes.
struct Sentiment {
    static let encoders = ["data2vec", "masked LM", "from scratch"]
    var budgets: [Int] = []
    var fineTuned: [Int: [String: SeedStatistics]] = [:]
    var steps: [Int: [String: [Int]]] = [:]
    /// Probe accuracy per encoder and pooling ("<s>", "mean").
    var probes: [String: [String: Float]] = [:]
    var devCount = 0
}

extension Chapter07 {
    func sentimentSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining) throws -> Sentiment {
        chapter.section("4. SST-2: sentiment with few and many labels")
        let budget = config.fineTuningBudget
        let train = text.sst2Train, dev = text.sst2Dev
        let encode = { (sentences: [String]) in sentences.map { text.tokenizer.sentence($0, maxLength: config.maxSentenceTokens) } }
        let (trainIDs, devIDs) = (encode(train.sentences), encode(dev.sentences))
        var result = Sentiment()
        result.devCount = dev.count
        let few = min(config.fewLabels, train.count), many = min(config.manyLabels, train.count)
        result.budgets = few < many ? [few, many] : [many]
        if few < config.fewLabels {
            print("  note: the SST-2 training file has only \(train.count) rows, so the few-label setting has \(few) labels, not \(config.fewLabels)")
        }
        chapter.say("""
            SST-2 (GLUE): \(train.count) labelled phrases from movie reviews for training, and \(dev.count) whole \
            sentences (\(text.devPath)) to test on. RoBERTa's classifier reads the encoder's output at <s>: dropout, \
            Linear(D, D), tanh, dropout, Linear(D, 2). Three starting points share everything else: the data2vec \
            encoder, the masked LM encoder, and a random initialization (from scratch). Each is fine-tuned on \
            \(result.budgets.map(String.init).joined(separator: " and ")) labelled phrases (a random subset per seed) \
            with Adam (0.9, 0.98), weight decay 0.1 and warm-up (RoBERTa's recipe) at a learning rate of \
            \(config.fineTuning.peakLearningRate), batches of \(budget.batchSize) phrases of similar length, validated on \
            \(Int(100 * budget.validationFraction))% of the labelled phrases held out (at most \(budget.maximumValidationExamples)), stopped after \(budget.patience) \
            validations without improvement (at most \(budget.maximumSteps) updates), keeping the best. The dev \
            sentences are used once, at the end.
            """)
        func accuracyOn(_ model: SentenceClassifier, _ ids: [[Int]], _ labels: [Int], _ indices: [Int]) -> Float {
            let logits = chunks(indices, size: 128).map { model(TextBatch($0.map { ids[$0] })) }
            return accuracy(logits: Tensor.concatenate(logits, along: 0), labels: indices.map { labels[$0] })
        }
        let backboneOf: [String: TextBackbone] = ["data2vec": pretrained.data2vec, "masked LM": pretrained.languageModel]
        print("  labels  seed   data2vec (updates)   masked LM (updates)   from scratch (updates)")
        for count in result.budgets {
            let start = Date()
            let seeds = count == result.budgets.first && result.budgets.count > 1 ? config.fewLabelSeeds : config.manyLabelSeeds
            // For each seed, its labelled phrases; for each starting point, one fine-tuning run on them.
            let jobs = (0..<seeds).flatMap { seed in Sentiment.encoders.map { (seed: seed, encoder: $0) } }
            let runs = jobs.mapSideBySide { seed, encoder -> (accuracy: Float, steps: Int) in
                var pick = RandomGenerator(seed: options.seed.derived("labelled phrases \(count)", seed))
                let labelled = Array(pick.permutation(train.count).prefix(count))
                var rng = RandomGenerator(seed: options.seed.derived("classifier \(count)", seed))
                let backbone = TextBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
                if let source = backboneOf[encoder] { backbone.copyParameters(from: source) }
                let model = SentenceClassifier(backbone: backbone, classCount: 2, using: &rng)
                let report = trainWithEarlyStopping(
                    model, optimization: config.fineTuning, examples: labelled, labels: train.labels, budget: budget,
                    seed: options.seed.derived("fine-tune \(count)", seed), lengths: { trainIDs[$0].count },
                    loss: { batch in Loss.crossEntropy(logits: model(TextBatch(batch.map { trainIDs[$0] })), labels: batch.map { train.labels[$0] }) },
                    score: { accuracyOn(model, trainIDs, train.labels, $0) })
                return (Tensor.withoutGradients { accuracyOn(model, devIDs, dev.labels, Array(0..<dev.count)) }, report.steps)
            }
            for seed in 0..<seeds {
                var line = String(format: "  %6d  %4d", count, seed)
                for (job, run) in zip(jobs, runs) where job.seed == seed {
                    result.fineTuned[count, default: [:]][job.encoder, default: SeedStatistics()].append(run.accuracy)
                    result.steps[count, default: [:]][job.encoder, default: []].append(run.steps)
                    line += String(format: "     %6.1f%% (%5d)", 100 * run.accuracy, run.steps)
                }
                print(line)
            }
            print(String(format: "          (%d labels: %.0f s)", count, Date().timeIntervalSince(start)))
            fflush(nil)
        }
        print("\n  labels   data2vec                 masked LM                from scratch")
        for count in result.budgets {
            print(String(format: "  %6d   ", count) + Sentiment.encoders.map {
                (result.fineTuned[count]?[$0]?.summary() ?? "-").padding(toLength: 24, withPad: " ", startingAt: 0)
            }.joined(separator: " "))
        }

        // Linear probes on frozen features of the many-label subset. The phrases go through the encoder sorted by
        // length (little padding per chunk), and each label travels with its phrase.
        var pick = RandomGenerator(seed: options.seed.derived("probe phrases"))
        let probeSet = Array(pick.permutation(train.count).prefix(result.budgets.last!)).sorted { trainIDs[$0].count < trainIDs[$1].count }
        let devSet = Array(0..<dev.count).sorted { devIDs[$0].count < devIDs[$1].count }
        let random = TextBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &pick)
        let encoders: [(String, TextBackbone)] = [("data2vec", pretrained.data2vec), ("masked LM", pretrained.languageModel), ("random encoder", random)]
        // Two probes per encoder: on its output at <s>, and on the mean over the tokens.
        let probeJobs = encoders.flatMap { encoder in [true, false].map { (backbone: encoder.1, first: $0) } }
        let probeResults = probeJobs.mapSideBySide { backbone, first -> Float in
            backbone.eval()
            func features(_ ids: [[Int]], _ indices: [Int]) -> Tensor {
                Tensor.concatenate(chunks(indices, size: 256).map { chunk in
                    Tensor.withoutGradients { backbone.sentenceFeatures(TextBatch(chunk.map { ids[$0] }), first: first) }
                }, along: 0)
            }
            return LinearProbe.accuracy(trainFeatures: features(trainIDs, probeSet), trainLabels: probeSet.map { train.labels[$0] },
                                        labelled: Array(probeSet.indices), testFeatures: features(devIDs, devSet),
                                        testLabels: devSet.map { dev.labels[$0] }, classCount: 2, configuration: config.probe, seed: 0)
        }
        print("\n  linear probe on frozen features (\(probeSet.count) labelled phrases):   <s>      mean over tokens")
        for (k, (name, _)) in encoders.enumerated() {
            result.probes[name] = ["<s>": probeResults[2 * k], "mean": probeResults[2 * k + 1]]
            print("    " + name.padding(toLength: 58, withPad: " ", startingAt: 0) + String(format: "%6.1f%%   %6.1f%%", 100 * probeResults[2 * k], 100 * probeResults[2 * k + 1]))
        }

        chapter.figure("07-sst2.png") { path throws(PlotError) in
            var figure = Figure(title: "SST-2 dev accuracy (\(dev.count) sentences; mean over seeds, bars from lowest to highest seed)",
                                yLabel: "accuracy (%)")
            func over(_ encoder: String, _ statistic: (SeedStatistics) -> Float) -> [Double] {
                result.budgets.map { 100 * Double(result.fineTuned[$0]?[encoder].map(statistic) ?? 0) }
            }
            figure.add(.bars(categories: result.budgets.map { "\($0) labels" },
                             series: Sentiment.encoders.map { ($0, over($0) { $0.mean }) },
                             ranges: Sentiment.encoders.map { (over($0) { $0.values.min()! }, over($0) { $0.values.max()! }) }))
            figure.yRange = 40...100
            try figure.render(to: path)
        }
        if !options.quick {
            for count in result.budgets {
                let d2v = result.fineTuned[count]!["data2vec"]!.mean, scratch = result.fineTuned[count]!["from scratch"]!.mean
                let lm = result.fineTuned[count]!["masked LM"]!.mean
                chapter.outcome(d2v > scratch, String(format: "with %d labels, data2vec beats training from scratch (%.1f%% vs %.1f%%)", count, 100 * d2v, 100 * scratch))
                chapter.outcome(d2v >= lm, String(format: "with %d labels, data2vec matches or beats the masked LM (%.1f%% vs %.1f%%)", count, 100 * d2v, 100 * lm))
            }
        }
        return result
    }
}
