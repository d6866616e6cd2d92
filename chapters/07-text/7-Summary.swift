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
                    + (sst2Wins.isEmpty ? "neither" : sst2Wins.map(String.init).joined(separator: " and ")) + " of "
                    + goalCounts.map(String.init).joined(separator: " and ") + " labels, and at or above Naive Bayes with "
                    + (bayesBeaten.isEmpty ? "neither" : bayesBeaten.map(String.init).joined(separator: " and ")) + ". A word list with "
                    + "counts is hard to beat with a few hundred labelled phrases.")
        }
        // Bigram shift, at every count.
        let shiftLines = shift.counts.map { count in
            "with \(count) labels data2vec \(percent(shift.mean("data2vec", count))), the masked LM \(percent(shift.mean("masked LM", count))), "
                + "from scratch \(percent(shift.mean("from scratch", count)))"
        }
        if !shiftLines.isEmpty {
            let goal = shift.paired("data2vec", "from scratch", config.shiftGoalCount)?.mean ?? .nan
            // Where each pretraining shows knowledge of word order: 5 points or more over scratch, paired.
            func helped(_ start: String) -> String? {
                let counts = shift.counts.filter { (shift.paired(start, "from scratch", $0)?.mean ?? 0) >= 0.05 }
                guard !counts.isEmpty else { return nil }
                return "\(start == "data2vec" ? "data2vec's" : "the masked LM's") with \(counts.map(String.init).joined(separator: " and ")) labels (paired: "
                    + counts.map { points(shift.paired(start, "from scratch", $0)?.mean ?? .nan) }.joined(separator: ", ") + " over scratch)"
            }
            let shown = ["data2vec", "masked LM"].compactMap(helped)
            chapter.say("Bigram shift (bags of words at 50% by construction): " + shiftLines.joined(separator: "; ") + ". "
                + (goal >= 0.15 ? "What data2vec's pretraining taught about word order is plain here, where no word list can help."
                    : "With \(config.shiftGoalCount) labels data2vec is \(points(goal)) over scratch (paired), short of the goal's 15.")
                + (shown.isEmpty ? " Neither pretraining shows knowledge of word order at these counts."
                    : " Knowledge of word order, which no word list holds, shows once fine-tuning has labels enough to find it: "
                        + shown.joined(separator: "; ") + "."))
        }
        if let d2v = probe.accuracy["data2vec"], let lm = probe.accuracy["masked LM"], let random = probe.accuracy["random encoder"] {
            chapter.say("""
                The hidden token (section 3): a linear probe reads it from data2vec's output at \(percent(d2v)), from the \
                masked LM's at \(percent(lm)) and from a random encoder's at \(percent(random)) (always the most frequent \
                probed token: \(percent(probe.mostFrequent))); the masked LM's own head names \(percent(pretrained.validationAccuracy)) \
                of its chosen positions. \(d2v <= probe.mostFrequent + 0.01 && lm > probe.mostFrequent + 0.05
                    ? "At this size and budget the masked LM learned words in context (its neighbours in section 3 are words of the same kind) and data2vec did not: its output at a hidden position says no more about the token than a random encoder's, so its teacher never offered the contextual targets that make the paper's result."
                    : "") \(inViewSentence(probe))
                """)
        }
        if let first = curve.first, let last = curve.last, first.steps < last.steps {
            let sst2 = (first.sst2["data2vec"] ?? .nan, last.sst2["data2vec"] ?? .nan), words = (first.shift["data2vec"] ?? .nan, last.shift["data2vec"] ?? .nan)
            let inView = curve.map { "\(percent($0.tokenInView["data2vec"] ?? .nan)) after \($0.steps)" }.joined(separator: ", ")
            let named = curve.map { $0.tokenInView["data2vec"] ?? .nan }
            let fading = zip(named, named.dropFirst()).allSatisfy { $0 > $1 } && (named.last ?? 1) < 0.8
            let hidden = curve.map { "\(percent($0.hiddenToken["data2vec"] ?? .nan)) after \($0.steps)" }.joined(separator: ", ")
            chapter.say("""
                Longer pretraining (section 6): from \(first.steps) to \(last.steps) steps, data2vec's SST-2 accuracy with \
                \(config.curveSST2Count) labels goes from \(percent(sst2.0)) to \(percent(sst2.1)) and its bigram-shift accuracy with \
                \(config.shiftGoalCount) labels from \(percent(words.0)) to \(percent(words.1)); the probe reads the hidden token from \
                its output \(hidden) steps, and its last block names the token in view \
                \(inView) steps\(fading ? ": the collapse grows with the pretraining" : "").
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
            (5) --target-norm layer --no-pretrained --pretrain-steps 4000: data2vec 1.0's text targets. If a block's output \
            holds the same vector at every position of a sequence, which normalization of the targets keeps it?
            """)
    }

    /// What the last block says about the token in view, when it says less than a random encoder's, and whether its
    /// output has become a code of the whole sequence.
    func inViewSentence(_ probe: HiddenTokenProbe) -> String {
        guard let d2v = probe.inView["data2vec"], let random = probe.inView["random encoder"], let lm = probe.inView["masked LM"],
              d2v < random - 0.2 else { return "" }
        let named = String(format: "With the token in view, data2vec's last block names it %.1f%% of the time, the masked LM's %.1f%% and a random encoder's %.1f%%",
                           100 * d2v, 100 * lm, 100 * random)
        guard let share = probe.sequenceShare["data2vec"]?.last else { return named + "." }
        if share > 0.5 {
            return named + String(format: """
                , and %.1f%% of its output variance is the same at every position of a sequence: data2vec's representations have \
                become a code of the whole sequence and let go of which word they read, a collapse that the variance monitor (one \
                number per channel over the batch) does not see.
                """, 100 * share)
        }
        return named + String(format: """
            : it keeps less of the word it reads than of its context, which is what its targets ask of it; it is no code of \
            the whole sequence (%.1f%% of its output variance is the same at every position of a sequence).
            """, 100 * share)
    }
}
