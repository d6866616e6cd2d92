// Chapter 06, section 5: what this run showed, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter06 {
    func summary(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, pretraining: SpeechPretraining, probe: SpeechProbe,
                 recognition: SpeechRecognition) {
        chapter.section("5. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps on \(data.train.count) clips; the numbers mean nothing yet.)") }
        let lines = recognition.fractions.map { f -> String in
            String(format: "%.0f%% of the strings (%d): %.1f%% fine-tuned vs %.1f%% from scratch", 100 * f, recognition.labelledStrings[f] ?? 0,
                   100 * (recognition.fineTuned[f]?.mean ?? .nan), 100 * (recognition.scratch[f]?.mean ?? .nan))
        }
        chapter.say(String(format: """
            The probe reads the spoken digit from data2vec's frozen features with %.1f%% accuracy, against %.1f%% for \
            a random encoder and %.1f%% for log-mel filterbanks (test set: %@). Digit error rates: %@.
            """, 100 * probe.data2vec.mean, 100 * probe.random.mean, 100 * probe.logMel.mean, data.splitDescription, lines.joined(separator: "; ")))
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter06ExerciseTests.swift holds the checkable part of each answer):
            (1) --span-length 10: spans of 100 ms. The paper found 5 frames of 20 ms far worse than 10; is it here?
            (2) --test-speakers theo: a speaker the model never heard. Which of the three probes suffers most?
            (3) --top-k 1: targets from the last block only.
            (4) Run the CTC loss by hand on two frames (Tests/AutogradTests/CTCTests.swift has the worked example).
            """)
    }
}
