// Chapter 07, section 4: SST-2 sentiment with few labels. Fine-tuning from data2vec, from the masked LM and from
// scratch, beside the two bag-of-words classifiers a skeptic tries first, on identical labelled subsets.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim
import Plot

/// A labelled text task as fine-tuning sees it: token ids and labels to learn from, and to be scored on.
struct TextTask {
    var trainTexts: [String], trainIDs: [[Int]], trainLabels: [Int]
    var testTexts: [String], testIDs: [[Int]], testLabels: [Int]
}

/// Scores over the few-label protocol, per method, and the updates each fine-tuning took.
struct FewLabelResults {
    var counts: [Int] = []
    var methods: [String: ProtocolScores] = [:]
    var updates: [Int: [String: [Int]]] = [:]
    var testCount = 0
    /// The task the methods were trained and scored on.
    var task: TextTask

    func mean(_ method: String, _ count: Int) -> Float { methods[method]?.statistics(count)?.mean ?? .nan }
    /// The labelled examples of draw `seed` at `count` labels (every method was given the same).
    func labelled(_ count: Int, seed: Int) -> [Int]? { methods[bagMethods[0]]?.subsets[count]?[seed] }
    /// Seed by seed, `method` minus `baseline` at `count` labels.
    func paired(_ method: String, _ baseline: String, _ count: Int) -> SeedStatistics? {
        guard let a = methods[method], let b = methods[baseline] else { return nil }
        return a.difference(from: b, count: count)
    }
}

/// The three starting points of fine-tuning, and the two bag-of-words references.
enum Start: String, CaseIterable {
    case data2vec, maskedLM = "masked LM", scratch = "from scratch"
}
let bagMethods = ["Naive Bayes (words)", "logistic regression (words)"]

extension Chapter07 {
    /// Fine-tunes a sentence classifier from `start` (nil: a random initialization) on the labelled examples
    /// `subset` of `task`, and scores it on the task's test examples: accuracy and the updates it took.
    func fineTune(_ start: TextBackbone?, task: TextTask, subset: [Int], rate: Float, pooling: SentencePooling,
                  budget: TrainingBudget, config: TextConfig, seed: UInt64) -> (accuracy: Float, updates: Int) {
        var rng = RandomGenerator(seed: seed.derived("classifier"))
        let backbone = TextBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        if let start { backbone.copyParameters(from: start) }
        let model = SentenceClassifier(backbone: backbone, classCount: 2, pooling: pooling, using: &rng)
        func accuracyOn(_ ids: [[Int]], _ labels: [Int], _ indices: [Int]) -> Float {
            let logits = chunks(indices, size: 128).map { model(TextBatch($0.map { ids[$0] })) }
            return accuracy(logits: Tensor.concatenate(logits, along: 0), labels: indices.map { labels[$0] })
        }
        var optimization = config.fineTuning
        optimization.peakLearningRate = rate
        let report = trainWithEarlyStopping(
            model, optimization: optimization, examples: subset, labels: task.trainLabels, budget: budget, seed: seed.derived("fine-tune"),
            lengths: { task.trainIDs[$0].count },
            loss: { batch in Loss.crossEntropy(logits: model(TextBatch(batch.map { task.trainIDs[$0] })), labels: batch.map { task.trainLabels[$0] }) },
            score: { accuracyOn(task.trainIDs, task.trainLabels, $0) })
        return (Tensor.withoutGradients { accuracyOn(task.testIDs, task.testLabels, Array(task.testIDs.indices)) }, report.steps)
    }

    /// The few-label protocol on `task`: for each count and evaluation seed one class-balanced subset of the
    /// training examples (drawn from `pool`), given to the two bag-of-words classifiers and to fine-tuning from
    /// each start (at the rates `rates`, or every rate of `grid` when choosing them); jobs run side by side.
    func runFewLabels(_ task: TextTask, pool: [Int], counts: [Int], seeds: [Int: Int], starts: [(Start, TextBackbone?)],
                      rates: (Start, Int) -> [Float], pooling: [SentencePooling], budget: (Int) -> TrainingBudget,
                      config: TextConfig, name: String) throws -> FewLabelResults {
        var result = FewLabelResults(counts: counts, testCount: task.testIDs.count, task: task)
        let protocolSeeds = seeds.values.max() ?? 1
        let drawn = try FewLabelProtocol(labels: pool.map { task.trainLabels[$0] }, classCount: 2, counts: counts, seeds: protocolSeeds,
                                         seed: options.seed.derived("\(name) subsets"))
        func subset(_ count: Int, _ seed: Int) -> [Int] { drawn.subset(count, seed: seed).map { pool[$0] } }
        for count in counts {
            for seed in 0..<(seeds[count] ?? 1) {
                let labelled = subset(count, seed)
                let bags = bagOfWordsAccuracy(train: labelled.map { task.trainTexts[$0] }, labels: labelled.map { task.trainLabels[$0] },
                                              test: task.testTexts, testLabels: task.testLabels, classCount: 2)
                result.methods[bagMethods[0], default: ProtocolScores(bagMethods[0])].record(bags.naiveBayes, count: count, seed: seed, subset: labelled)
                if let logistic = bags.logistic {
                    result.methods[bagMethods[1], default: ProtocolScores(bagMethods[1])].record(logistic, count: count, seed: seed, subset: labelled)
                }
            }
        }
        struct Job { var count: Int, seed: Int, start: Start, backbone: TextBackbone?, rate: Float, pooling: SentencePooling }
        var jobs: [Job] = []
        for count in counts {
            for seed in 0..<(seeds[count] ?? 1) {
                for (start, backbone) in starts {
                    for rate in rates(start, count) { for p in pooling { jobs.append(Job(count: count, seed: seed, start: start, backbone: backbone, rate: rate, pooling: p)) } }
                }
            }
        }
        let started = Date()
        let runs = jobs.mapSideBySide { job in
            fineTune(job.backbone, task: task, subset: subset(job.count, job.seed), rate: job.rate, pooling: job.pooling, budget: budget(job.count),
                     config: config, seed: options.seed.derived("\(name) fine-tune \(job.count)", job.seed))
        }
        for (job, run) in zip(jobs, runs) {
            let method = rates(job.start, job.count).count > 1 || pooling.count > 1
                ? "\(job.start.rawValue), lr \(job.rate), \(job.pooling.rawValue)" : job.start.rawValue
            result.methods[method, default: ProtocolScores(method)].record(run.accuracy, count: job.count, seed: job.seed, subset: subset(job.count, job.seed))
            result.updates[job.count, default: [:]][method, default: []].append(run.updates)
        }
        print(String(format: "  %d fine-tuning runs in %.0f s (two at a time)", jobs.count, Date().timeIntervalSince(started)))
        return result
    }

    /// Prints the updates each start's runs took at each count, against the budget's cap: runs that stop well
    /// below it converged under the rule, runs at the cap were cut short by it.
    func printUpdates(_ result: FewLabelResults, cap: (Int) -> Int) {
        print("  updates taken (fewest to most over the draws; the cap of the budget rule):")
        for count in result.counts {
            let cells = Start.allCases.compactMap { start -> String? in
                guard let u = result.updates[count]?[start.rawValue], let low = u.min(), let high = u.max() else { return nil }
                return "\(start.rawValue) \(low)-\(high)"
            }
            print("    \(count) labels (cap \(cap(count))): " + cells.joined(separator: ", "))
        }
    }

    /// Prints one row per method: mean and half range over the seeds at each count.
    func printFewLabelTable(_ result: FewLabelResults, methods: [String], unit: String) {
        print("  " + "method".padding(toLength: 34, withPad: " ", startingAt: 0)
              + result.counts.map { String(repeating: " ", count: max(1, 16 - "\($0) \(unit)".count)) + "\($0) \(unit)" }.joined())
        for method in methods {
            guard let scores = result.methods[method] else { continue }
            let cells = result.counts.map { count -> String in
                guard let s = scores.statistics(count) else { return "               -" }
                return String(format: "%9.1f%% ±%4.1f", 100 * s.mean, 100 * s.halfRange)
            }
            print("  " + method.padding(toLength: 34, withPad: " ", startingAt: 0) + cells.joined())
        }
    }

    /// The SST-2 task of section 4, scored on the dev sentences (or, with --validation, on the held-out phrases), and
    /// the training rows labels are drawn from (all but the last `sst2ValidationPhrases`).
    func sst2Task(_ config: TextConfig, text: TextData) -> (task: TextTask, pool: [Int]) {
        let train = text.sst2Train
        let held = min(config.sst2ValidationPhrases, train.count / 2)
        let test = config.validation ? train.subset(Array((train.count - held)..<train.count)) : text.sst2Dev
        let encode = { (sentences: [String]) in sentences.map { text.tokenizer.sentence($0, maxLength: config.maxSentenceTokens) } }
        let task = TextTask(trainTexts: train.sentences, trainIDs: encode(train.sentences), trainLabels: train.labels,
                            testTexts: test.sentences, testIDs: encode(test.sentences), testLabels: test.labels)
        return (task, Array(0..<(train.count - held)))
    }

    func sentimentSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining) throws -> FewLabelResults {
        chapter.section("4. SST-2: sentiment from few labels")
        let (task, pool) = sst2Task(config, text: text)
        let held = text.sst2Train.count - pool.count
        let budget = config.classifyBudget
        chapter.say("""
            SST-2 (GLUE): movie-review phrases labelled positive or negative. \(config.sst2Counts.map(String.init).joined(separator: ", ")) \
            labelled phrases, half of each class, drawn from the first \(pool.count) training rows (the last \(held) are kept \
            to choose settings with --validation); \(config.sst2Seeds) draw\(config.sst2Seeds == 1 ? "" : "s") per count, each draw given to every method. \
            The references a skeptic tries first: multinomial Naive Bayes and logistic regression (C = 1) on bags of \
            words (the words of the labelled phrases; Sources/Evaluation/BagOfWords.swift). Fine-tuning: RoBERTa's \
            classification head (dropout, Linear(D, D), tanh, dropout, Linear(D, 2)) reading \
            \(config.sentencePooling == .first ? "the output at <s>" : "the mean of the token vectors") (the better of the two on \
            held-out phrases, results/trials/ch07-choices.txt), and the whole encoder trained with Adam (0.9, 0.98), \
            weight decay 0.1, warm-up and dropout 0.1 (RoBERTa's recipe), from three starting points: the data2vec \
            encoder, the masked LM and a random initialization. One budget rule for all: at most \
            \(budget.maximumSteps) updates of \(budget.batchSize) phrases; from \(budget.minimumExamplesForValidation) \
            labelled phrases on, \(Int(100 * budget.validationFraction))% of them held out, validated every \
            \(budget.minimumStepsBetweenValidations) updates, stopped after \(budget.patience) validations without \
            improvement, keeping the best. Each start's peak learning rate per count is the best of \
            \(config.rateGrid.map { "\($0)" }.joined(separator: ", ")) on the held-out phrases. Scored on \
            \(config.validation ? "the \(held) held-out training phrases (--validation)" : "the \(task.testIDs.count) dev sentences (\(text.devPath))").
            """)
        let starts: [(Start, TextBackbone?)] = [(.data2vec, pretrained.data2vec), (.maskedLM, pretrained.languageModel), (.scratch, nil)]
        let seeds = Dictionary(uniqueKeysWithValues: config.sst2Counts.map { ($0, config.validation ? min(3, config.sst2Seeds) : config.sst2Seeds) })
        let result = try runFewLabels(task, pool: pool, counts: config.sst2Counts, seeds: seeds, starts: starts,
                                      rates: { start, count in config.validation ? config.rateGrid : [config.sst2Rate(start, count)] },
                                      pooling: config.validation ? config.poolingGrid : [config.sentencePooling],
                                      budget: { _ in budget }, config: config, name: "sst2")
        let same = sameLabelledExamples(Array(result.methods.values))
        chapter.check(same.holds, "every method was given the same labelled phrases at each count and draw (\(same.compared) scores compared)")
        if config.validation {
            reportChoices(result, task: "SST-2", poolings: config.poolingGrid)
            return result
        }
        print("\n  SST-2 dev accuracy (mean over \(config.sst2Seeds) draw\(config.sst2Seeds == 1 ? "" : "s"), ± half the range)")
        printFewLabelTable(result, methods: bagMethods + Start.allCases.map(\.rawValue), unit: "labels")
        printUpdates(result) { _ in budget.maximumSteps }
        printPairedDifferences(result, [("data2vec", "from scratch"), ("data2vec", bagMethods[0]), ("data2vec", "masked LM"), ("masked LM", "from scratch")])
        chapter.figure("07-sst2.png") { path throws(PlotError) in
            try fewLabelFigure(result, title: "SST-2 dev accuracy with few labels (\(result.testCount) sentences; mean and range over \(config.sst2Seeds) draws)",
                               xLabel: "labelled phrases", key: "bottom right").render(to: path)
        }
        if !options.quick {
            for count in config.sst2GoalCounts where result.counts.contains(count) {
                let overScratch = result.paired("data2vec", "from scratch", count)?.mean ?? .nan
                let overBayes = result.paired("data2vec", bagMethods[0], count)?.mean ?? .nan
                let overLM = result.paired("data2vec", "masked LM", count)?.mean ?? .nan
                chapter.outcome(overScratch >= 0.05, String(format: "with %d labels, data2vec is at least 5 points above training from scratch (paired: %+.1f)", count, 100 * overScratch))
                chapter.outcome(overBayes >= 0, String(format: "with %d labels, data2vec is not below Naive Bayes (paired: %+.1f)", count, 100 * overBayes))
                chapter.outcome(overLM >= -0.02, String(format: "with %d labels, data2vec is within 2 points of the masked LM or above it (paired: %+.1f)", count, 100 * overLM))
            }
        }
        return result
    }

    /// Seed by seed differences between methods at every count: mean, lowest and highest, in points.
    func printPairedDifferences(_ result: FewLabelResults, _ pairs: [(String, String)]) {
        print("\n  paired differences (points, mean over the draws, lowest to highest):")
        for (a, b) in pairs {
            let cells = result.counts.map { count -> String in
                guard let d = result.paired(a, b, count) else { return "" }
                return String(format: "%d: %+.1f (%+.1f to %+.1f)", count, 100 * d.mean, 100 * (d.values.min() ?? 0), 100 * (d.values.max() ?? 0))
            }
            print("    \(a) - \(b): " + cells.joined(separator: "; "))
        }
    }

    /// Accuracy against labelled examples (a logarithmic axis), one line per method with its draws' range.
    func fewLabelFigure(_ result: FewLabelResults, title: String, xLabel: String, key: String) -> Figure {
        var figure = Figure(title: title, xLabel: xLabel, yLabel: "accuracy (%)")
        figure.logScaleX = true
        let x = result.counts.map(Double.init)
        figure.xRange = 0.8 * (x.min() ?? 1)...1.25 * (x.max() ?? 10)
        for method in bagMethods + Start.allCases.map(\.rawValue) {
            guard let scores = result.methods[method] else { continue }
            let stats = result.counts.map { scores.statistics($0) ?? SeedStatistics() }
            figure.add(.lineWithRanges(x: x, y: stats.map { 100 * Double($0.mean) }, low: stats.map { 100 * Double($0.values.min() ?? 0) },
                                       high: stats.map { 100 * Double($0.values.max() ?? 0) }, title: method))
        }
        figure.extraSettings = ["set key \(key)"]
        return figure
    }

    /// With --validation: each start's held-out accuracy per count for every rate and pooling, and the best.
    func reportChoices(_ result: FewLabelResults, task: String, poolings: [SentencePooling]) {
        print("\n  \(task), held-out accuracy by start, learning rate and pooling (mean over the draws):")
        for start in Start.allCases {
            for count in result.counts {
                let cells = result.methods.keys.filter { $0.hasPrefix(start.rawValue + ",") }.sorted().map { key in
                    (key, result.mean(key, count))
                }
                let line = cells.map { String(format: "%@ %.1f%%", String($0.0.dropFirst(start.rawValue.count + 2)) as NSString, 100 * $0.1) }
                print("    \(start.rawValue), \(count): " + line.joined(separator: "; "))
                if let best = cells.max(by: { $0.1 < $1.1 }) { print("      best: \(best.0)") }
            }
        }
        // The pooling that is best on average over every start, count and rate's best.
        for pooling in poolings {
            var total: Float = 0, n = 0
            for start in Start.allCases {
                for count in result.counts {
                    let best = result.methods.keys.filter { $0.hasPrefix(start.rawValue + ",") && $0.hasSuffix(pooling.rawValue) }
                        .map { result.mean($0, count) }.max() ?? .nan
                    if best.isFinite { total += best; n += 1 }
                }
            }
            print(String(format: "    pooling %@: mean of each start's and count's best rate %.1f%%", pooling.rawValue as NSString, 100 * total / Float(max(1, n))))
        }
    }
}
