// Chapter 06, section 7: what this run showed, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter06 {
    func summary(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, pretraining: SpeechPretraining, fewLabels: FewLabelDigits, fineTuned: DigitFineTuning,
                 curve: SpeechComputeCurve,
                 recognition: SpeechRecognition) {
        chapter.section("7. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps on \(data.train.count) clips; the numbers mean nothing yet.)") }
        let lines = recognition.fractions.map { f -> String in
            String(format: "%.0f%% of the strings (%d): %.1f%% fine-tuned vs %.1f%% from scratch", 100 * f, recognition.labelledStrings[f] ?? 0,
                   100 * (recognition.fineTuned[f]?.mean ?? .nan), 100 * (recognition.scratch[f]?.mean ?? .nan))
        }
        let digits = fewLabels.counts.map { count in
            String(format: "%d per digit: %.1f%% (%@), %.1f%% (log-mel statistics), %.1f%% (random encoder)", count / 10,
                   100 * (fewLabels.mean("\(fewLabels.headline), logistic", count) ?? .nan), fewLabels.headline,
                   100 * (fewLabels.mean("log-mel statistics, logistic", count) ?? .nan), 100 * (fewLabels.mean("\(fewLabels.randomName), logistic", count) ?? .nan))
        }
        let tuned = fineTuned.counts.map { count in
            String(format: "%d per digit %.1f%% fine-tuned vs %.1f%% from scratch", count / 10,
                   100 * (fineTuned.fineTuned[count]?.mean ?? .nan), 100 * (fineTuned.scratch[count]?.mean ?? .nan))
        }
        let frontEnds = fewLabels.frontEndGains.map { String(format: "%@ %+.1f points", $0.kind, 100 * $0.gain) }.joined(separator: ", ")
        let curveText = curve.steps.isEmpty ? "" : " Over complete pretraining runs of every length, " + curve.counts.map { count in
            "\(count / 10) per digit went " + curve.steps.map { String(format: "%.1f%%", 100 * (curve.accuracy[$0]?[count] ?? .nan)) }.joined(separator: " -> ")
        }.joined(separator: "; ") + " (pretraining " + curve.steps.map(String.init).joined(separator: ", ") + " steps)."
        chapter.say("""
            Frozen features (view "\(config.probeView)") and logistic regression read the spoken digit (test set: \
            \(data.splitDescription); front end \(config.frontEnd.features.rawValue)) with \(digits.joined(separator: "; ")).\
            \(tuned.isEmpty ? "" : " Training the whole network on the same clips (section 4): \(tuned.joined(separator: "; ")).")\
            \(frontEnds.isEmpty ? "" : " Gain of this run's pretraining over its random encoder, by front end: \(frontEnds).")\(curveText) \
            Digit error rates: \(lines.joined(separator: "; ")).
            """)
        if !options.quick { chapter.say(recognitionFindings(config, recognition)) }
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter06ExerciseTests.swift holds the checkable part of each answer):
            (1) --span-length 10: spans of 100 ms. The paper found 5 frames of 20 ms far worse than 10; is it here?
            (2) --test-speakers theo --no-pretrained: a speaker the model never heard. Which features suffer most?
            (3) --top-k 1: targets from the last block only.
            (4) Run the CTC loss by hand on two frames (Tests/AutogradTests/CTCTests.swift has the worked example).
            (5) --ctc-frames-per-step 2: one CTC output per two frames (20 ms, wav2vec 2.0's frame rate). Half the blanks to learn: does it help?
            """)
    }

    /// What the recognition runs of this run show: where pretraining helped, the goal at 10%, and whether the
    /// runs used their whole budget.
    func recognitionFindings(_ config: SpeechConfig, _ recognition: SpeechRecognition) -> String {
        let name = { (f: Double) in String(format: "%.0f%%", 100 * f) }
        let pairs = recognition.fractions.compactMap { f in
            recognition.fineTuned[f].flatMap { t in recognition.scratch[f].map { (f, t.mean, $0.mean) } }
        }
        let helped = pairs.filter { $0.1 < $0.2 }.map { name($0.0) }, hurt = pairs.filter { $0.1 >= $0.2 }.map { name($0.0) }
        var findings: [String] = []
        if !helped.isEmpty {
            findings.append("Fine-tuning from data2vec read the digits better than training from scratch with \(helped.joined(separator: " and ")) of the labelled strings")
        }
        if !hurt.isEmpty {
            findings.append("training from scratch was better with \(hurt.joined(separator: " and "))")
        }
        var text = findings.joined(separator: "; ") + "."
        text = text.prefix(1).uppercased() + text.dropFirst()
        if let tenth = pairs.first(where: { abs($0.0 - 0.1) < 1e-9 }) {
            text += String(format: " With 10%% of the strings the error rate is %.1f%% against %.1f%% from scratch (%.0f%% of it).",
                           100 * tenth.1, 100 * tenth.2, 100 * tenth.1 / tenth.2)
        }
        let cap = { (f: Double) in config.recognitionBudget(f).maximumSteps }
        let capped = recognition.fractions.filter { f in
            (recognition.fineTunedSteps[f] ?? []).contains(cap(f)) || (recognition.scratchSteps[f] ?? []).contains(cap(f))
        }
        if !capped.isEmpty {
            text += " Runs with " + capped.map { "\(name($0)) of the strings" }.joined(separator: " and ") + " reached their cap of "
                + capped.map { "\(cap($0))" }.joined(separator: " and ")
                + " updates: their error rates are limited by the budget, far from the paper's 13,000-320,000 fine-tuning updates."
        }
        return text
    }
}
