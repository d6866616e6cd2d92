// Chapter 07, section 6: what this run showed, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter07 {
    func summary(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining, sentiment: Sentiment) {
        chapter.section("6. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps; the numbers mean nothing yet.)") }
        let lines = sentiment.budgets.map { count -> String in
            let cells = Sentiment.encoders.map { String(format: "%@ %.1f%%", $0, 100 * (sentiment.fineTuned[count]?[$0]?.mean ?? .nan)) }
            return "with \(count) labels: " + cells.joined(separator: ", ")
        }
        chapter.say("SST-2 dev accuracy, " + lines.joined(separator: "; ") + ".")
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
