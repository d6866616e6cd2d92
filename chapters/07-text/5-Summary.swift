// Chapter 07, section 5: what this run showed, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter07 {
    func summary(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining, sentiment: Sentiment) {
        chapter.section("5. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps; the numbers mean nothing yet.)") }
        let lines = sentiment.budgets.map { count -> String in
            let cells = Sentiment.encoders.map { String(format: "%@ %.1f%%", $0, 100 * (sentiment.fineTuned[count]?[$0]?.mean ?? .nan)) }
            return "with \(count) labels: " + cells.joined(separator: ", ")
        }
        chapter.say("SST-2 dev accuracy, " + lines.joined(separator: "; ") + ".")
        // What the numbers say, decided by this run's numbers.
        func mean(_ count: Int, _ encoder: String) -> Float { 100 * (sentiment.fineTuned[count]?[encoder]?.mean ?? .nan) }
        let best = { (count: Int) in Sentiment.encoders.max { mean(count, $0) < mean(count, $1) }! }
        chapter.say("The best starting point: " + sentiment.budgets.map { "\(best($0)) with \($0) labels" }.joined(separator: ", ") + ".")
        let behind = sentiment.budgets.filter { mean($0, "data2vec") <= mean($0, "from scratch") }
        if behind.isEmpty {
            chapter.say("data2vec beat training from scratch with every budget, the paper's result in small.")
        } else {
            chapter.say("""
                data2vec did not beat training from scratch with \(behind.map(String.init).joined(separator: " and ")) labels: at this \
                scale its pretraining gave fine-tuning no better start than a random initialization. A 4-block model of \
                width \(config.encoder.dimension) pretrained for \(config.pretrainingSteps) steps is far from the paper's 12 \
                blocks of 768 pretrained for a million updates, and this chapter does not reproduce the paper's GLUE result.
                """)
        }
        let capped = sentiment.budgets.filter { c in Array((sentiment.steps[c] ?? [:]).values.joined()).allSatisfy { $0 >= config.fineTuningBudget.maximumSteps } }
        if !capped.isEmpty {
            chapter.say("""
                With \(capped.map(String.init).joined(separator: " and ")) labels every run stopped at the \(config.fineTuningBudget.maximumSteps)-update cap: \
                those numbers are limited by the budget, for all three starting points alike.
                """)
        }
        if let d2v = sentiment.probes["data2vec"]?["mean"], let lm = sentiment.probes["masked LM"]?["mean"],
           let random = sentiment.probes["random encoder"]?["mean"] {
            let best = d2v > lm && d2v > random
            chapter.say(String(format: """
                The linear probe on mean-pooled frozen features reads %.1f%% from data2vec, %.1f%% from the masked LM and \
                %.1f%% from a random encoder: %@
                """, 100 * d2v, 100 * lm, 100 * random,
                best ? "data2vec's features are the most linearly informative of the three." as NSString
                     : "data2vec's features are not the most linearly informative here." as NSString))
        }
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter07ExerciseTests.swift holds the checkable part of each answer):
            (1) --masking spans: the shipped config's masking (spans of 4, p 0.35, all shown as <mask>). How many \
            tokens does it mask compared with BERT's 15%?
            (2) --novels-only: pretrain on the novels alone, without the SST-2 sentences. How many points is the \
            unlabelled in-domain text worth?
            (3) Train a tokenizer with a vocabulary of 512 and of 8,192: how many tokens per word does each need?
            (4) --top-k 1: targets from the last block only.
            """)
    }
}
