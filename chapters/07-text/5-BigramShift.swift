// Chapter 07, section 5: bigram shift, a task whose labels cost nothing and that a bag of words cannot solve.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import Plot

/// The bigram-shift examples: sentences of the held-out novel to draw labelled examples from, and the test set.
struct ShiftData {
    var task: TextTask
    /// Sentences the labelled examples are drawn from (the first part of the novel), and the test sentences.
    var poolSentences: [String], testSentences: [String]
    /// Sentences left out because every one of their 6-word windows occurs in the pretraining text.
    var dropped: Int
}

extension Chapter07 {
    /// Sentences of 6 to 40 words from the validation novel: the first 80% to draw labelled examples from, the
    /// last 20% (split at a sentence) as test sentences, each once as itself and once shifted. With
    /// --validation the test sentences are the last 20% of the first part instead, and the novel's end is not read.
    func shiftData(_ config: TextConfig, text: TextData, counts: [Int]) -> ShiftData {
        var sentences = BigramShift.sentences(in: text.validText, words: 6...40)
        // The check that the encoders never read these sentences: every 6-word window of the pretraining text is
        // hashed, and a sentence whose windows all occur there is left out.
        var windows = Set<Int>()
        for line in text.pretrainingText.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 6 else { continue }
            for i in 0...(words.count - 6) { windows.insert(words[i..<(i + 6)].joined(separator: " ").hashValue) }
        }
        let before = sentences.count
        sentences.removeAll { sentence in
            let words = sentence.split(separator: " ")
            return (0...(words.count - 6)).allSatisfy { windows.contains(words[$0..<($0 + 6)].joined(separator: " ").hashValue) }
        }
        let split = sentences.count * 4 / 5
        var pool = Array(sentences[..<split]), test = Array(sentences[split...])
        if config.validation {
            let inner = pool.count * 4 / 5
            (pool, test) = (Array(pool[..<inner]), Array(pool[inner...]))
        }
        var rng = RandomGenerator(seed: options.seed.derived("bigram shift"))
        let labelled = BigramShift.examples(pool, count: counts.max() ?? 0, using: &rng)
        let paired = BigramShift.pairedExamples(test, using: &rng)
        let encode = { (sentences: [String]) in sentences.map { text.tokenizer.sentence($0, maxLength: config.maxSentenceTokens) } }
        let task = TextTask(trainTexts: labelled.texts, trainIDs: encode(labelled.texts), trainLabels: labelled.labels,
                            testTexts: paired.texts, testIDs: encode(paired.texts), testLabels: paired.labels)
        return ShiftData(task: task, poolSentences: pool, testSentences: test, dropped: before - sentences.count)
    }

    /// How many of `sentences` occur in `text`, byte for byte (a search independent of the windows' hashes).
    func occurrences(of sentences: [String], in text: String) -> Int {
        let haystack = Data(text.utf8)
        return sentences.filter { haystack.range(of: Data($0.utf8)) != nil }.count
    }

    /// Section 5's budget rule in words, read from `config.shiftBudget`.
    func budgetWords(_ config: TextConfig) -> String {
        let rules = config.shiftCounts.map { count -> String in
            let b = config.shiftBudget(count)
            return "with \(count) labels at most \(b.maximumSteps) updates of \(b.batchSize)\(b.minimumSteps > 0 ? ", none stopped before \(b.minimumSteps)" : "")"
        }
        return rules.joined(separator: "; ") + " (section 4's rule of 400 updates stopped every start on chance's plateau at 1,000 labels: results/trials/ch07-shift-budget.txt)."
    }

    func bigramShiftSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining) throws -> FewLabelResults {
        chapter.section("5. Bigram shift: word order, with labels that cost nothing")
        let data = shiftData(config, text: text, counts: config.shiftCounts)
        chapter.say("""
            SentEval's bigram shift (Conneau et al., 2018): is one pair of adjacent words of the sentence in the \
            wrong order? "he had never seen her so pale ." against "he had seen never her so pale .". \
            Sources/Datasets/BigramShift.swift makes the examples from the held-out novel, which no encoder \
            pretrained on: its sentences of 6 to 40 words, the first \(data.poolSentences.count) to draw \
            labelled examples from (half of them shifted: two adjacent different words swapped at random), the \
            last \(data.testSentences.count) as the test, each sentence once as itself and once shifted \
            (\(data.task.testIDs.count) examples, balanced). A bag of words is at chance by construction, since a \
            sentence and its shifted copy hold the same words: what the fine-tuned encoders gain here they learned \
            about word order.\(config.shiftCounts.last! > data.poolSentences.count ? " With \(config.shiftCounts.last!) labels the \(data.poolSentences.count) sentences repeat, each time with a new swap when shifted." : "") \
            Fine-tuning as in section 4 (same head and rate grid), with a budget that grows with the labels: \
            \(budgetWords(config))
            """)
        print("  \(data.dropped) of the novel's sentences left out: every 6-word window of theirs occurs in the pretraining text")
        let found = occurrences(of: data.poolSentences + data.testSentences, in: text.pretrainingText)
        chapter.check(found == 0, "no bigram-shift sentence occurs in the pretraining text (each of the \(data.poolSentences.count + data.testSentences.count) searched for in its \(text.pretrainingText.utf8.count) bytes: \(found) found)")
        let starts: [(Start, TextBackbone?)] = [(.data2vec, pretrained.data2vec), (.maskedLM, pretrained.languageModel), (.scratch, nil)]
        let seeds = Dictionary(uniqueKeysWithValues: config.shiftCounts.map { ($0, config.validation ? min($0 >= 10_000 ? 1 : 2, config.shiftSeeds[$0] ?? 1) : config.shiftSeeds[$0] ?? 1) })
        let pool = Array(data.task.trainIDs.indices)
        // Choosing settings (--validation) searches the counts below 10,000, with both poolings.
        let counts = config.validation ? config.shiftCounts.filter { $0 < 10_000 } : config.shiftCounts
        let result = try runFewLabels(data.task, pool: pool, counts: counts, seeds: seeds, starts: starts,
                                      rates: { start, count in config.validation ? config.rateGrid : [config.shiftRate(start, count)] },
                                      pooling: config.validation ? config.poolingGrid : [config.shiftPooling],
                                      budget: { config.shiftBudget($0) }, config: config, name: "bigram shift")
        if config.validation {
            reportChoices(result, task: "bigram shift", poolings: config.poolingGrid)
            return result
        }
        print("\n  bigram-shift test accuracy (\(data.task.testIDs.count) examples; mean over the draws, ± half the range)")
        printFewLabelTable(result, methods: bagMethods + Start.allCases.map(\.rawValue), unit: "labels")
        print("  draws per count: " + config.shiftCounts.map { "\($0): \(seeds[$0]!)" }.joined(separator: ", "))
        printUpdates(result) { config.shiftBudget($0).maximumSteps }
        printPairedDifferences(result, [("data2vec", "from scratch"), ("data2vec", "masked LM"), ("masked LM", "from scratch")])
        chapter.figure("07-bigram-shift.png") { path throws(PlotError) in
            try fewLabelFigure(result, title: "Bigram shift on the held-out novel (\(result.testCount) test examples; mean and range over the draws)",
                               xLabel: "labelled examples", key: "top left").render(to: path)
        }
        if !options.quick, let d = result.paired("data2vec", "from scratch", config.shiftGoalCount) {
            chapter.outcome(d.mean >= 0.15, String(format: "on bigram shift with %d labels, data2vec fine-tuned is at least 15 points above training from scratch (paired: %+.1f)",
                                                   config.shiftGoalCount, 100 * d.mean))
        }
        return result
    }
}
