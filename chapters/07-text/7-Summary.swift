// Chapter 07, section 7: what this run showed, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter07 {
    func summary(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining, probe: HiddenTokenProbe,
                 sentiment: FewLabelResults, shift: FewLabelResults, curve: [CurvePoint]) {
        chapter.section("7. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps; the numbers mean nothing yet.)") }
        func percent(_ value: Float) -> String { String(format: "%.1f%%", 100 * value) }
        func points(_ value: Float) -> String { String(format: "%+.1f", 100 * value) }
        let source = pretrained.source == "this run" ? "pretrained in this run" : "read from \(pretrained.source)"
        chapter.say("The encoders: \(pretrained.steps) steps of data2vec and of the masked LM, \(source).")

        // SST-2, at the counts the goals are about.
        let goalCounts = config.sst2GoalCounts.filter { sentiment.counts.contains($0) }
        let sst2Lines = goalCounts.map { count -> String in
            let overScratch = sentiment.paired("data2vec", "from scratch", count)?.mean ?? .nan
            let overBayes = sentiment.paired("data2vec", bagMethods[0], count)?.mean ?? .nan
            return "with \(count) labels data2vec reads \(percent(sentiment.mean("data2vec", count))) (paired: \(points(overScratch)) over "
                + "training from scratch, \(points(overBayes)) over Naive Bayes' \(percent(sentiment.mean(bagMethods[0], count))), masked LM "
                + "\(percent(sentiment.mean("masked LM", count))))"
        }
        if !sst2Lines.isEmpty { chapter.say("SST-2: " + sst2Lines.joined(separator: "; ") + ".") }
        let sst2Wins = goalCounts.filter { (sentiment.paired("data2vec", "from scratch", $0)?.mean ?? -1) >= 0.05 }
        let bayesBeaten = goalCounts.filter { (sentiment.paired("data2vec", bagMethods[0], $0)?.mean ?? -1) >= 0 }
        if !goalCounts.isEmpty {
            chapter.say(sst2Wins.count == goalCounts.count && bayesBeaten.count == goalCounts.count
                ? "With few labels the pretrained encoder is worth its pretraining on sentiment: 5 points or more over training from scratch, and not below the bag of words."
                : "On sentiment the pretraining is not yet worth what the paper finds: data2vec is 5 points over training from scratch with "
                    + (sst2Wins.isEmpty ? "none of" : sst2Wins.map(String.init).joined(separator: " and ")) + " of "
                    + goalCounts.map(String.init).joined(separator: " and ") + " labels, and at or above Naive Bayes with "
                    + (bayesBeaten.isEmpty ? "none" : bayesBeaten.map(String.init).joined(separator: " and ")) + ". A word list with "
                    + "counts is hard to beat with a few hundred labelled phrases.")
        }
        // Bigram shift.
        let count = config.shiftGoalCount
        if let d = shift.paired("data2vec", "from scratch", count) {
            let lm = shift.mean("masked LM", count)
            chapter.say("""
                Bigram shift with \(count) labels: data2vec \(percent(shift.mean("data2vec", count))), the masked LM \(percent(lm)), \
                training from scratch \(percent(shift.mean("from scratch", count))), bags of words \(percent(shift.mean(bagMethods[0], count))) \
                (chance by construction). \(d.mean >= 0.15 ? "What pretraining taught about word order is plain here, where no word list can help."
                    : d.mean > 0 ? "Pretraining helps with word order, by \(points(d.mean)) points paired, less than the 15 hoped for."
                    : "Pretraining did not help with word order here.")
                """)
        }
        if let d2v = probe.accuracy["data2vec"], let lm = probe.accuracy["masked LM"], let random = probe.accuracy["random encoder"] {
            chapter.say("""
                The hidden token (section 3): a linear probe reads it from data2vec's output at \(percent(d2v)), from the \
                masked LM's at \(percent(lm)) and from a random encoder's at \(percent(random)) (always the most frequent \
                probed token: \(percent(probe.mostFrequent))); the masked LM's own head names \(percent(pretrained.validationAccuracy)) \
                of its chosen positions.
                """)
        }
        if let first = curve.first, let last = curve.last, first.steps < last.steps {
            let sst2 = (first.sst2["data2vec"] ?? .nan, last.sst2["data2vec"] ?? .nan), words = (first.shift["data2vec"] ?? .nan, last.shift["data2vec"] ?? .nan)
            chapter.say("""
                Longer pretraining (section 6): from \(first.steps) to \(last.steps) steps, data2vec's SST-2 accuracy with \
                \(config.curveSST2Count) labels goes from \(percent(sst2.0)) to \(percent(sst2.1)) and its bigram-shift accuracy with \
                \(config.shiftGoalCount) labels from \(percent(words.0)) to \(percent(words.1)).
                """)
        }
        chapter.say("""
            A 4-block model of width \(config.encoder.dimension) pretrained on 5.7 MB of text is far from the paper's 12 blocks of \
            768 pretrained on 160 GB for a million updates; this chapter does not reproduce the paper's GLUE result, and says \
            where its small version stands.
            """)
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter07ExerciseTests.swift holds the checkable part of each answer):
            (1) --masking spans --no-pretrained: the shipped config's masking (spans of 4, p 0.35, all shown as <mask>). How \
            many tokens does it mask compared with BERT's 15%?
            (2) Why does a bag of words score exactly 50% on section 5's test, whatever it was trained on?
            (3) Train a tokenizer with a vocabulary of 512 and of 8,192: how many tokens per word does each need?
            (4) --top-k 1 --no-pretrained: targets from the last block only.
            """)
    }
}
