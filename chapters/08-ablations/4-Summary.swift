// Chapter 08, the last section: every arm on the test examples, and each of the paper's findings beside what this run sees.
import ChapterKit
import Data2Vec
import Foundation

extension Chapter08 {
    func summary<Settings: AblationSettings, FrontEnd: ConfiguredFrontEnd>(
        _ chapter: Chapter, _ config: Settings, _ measured: [MeasuredAblation<Settings.FrontEndConfiguration>], runs book: RunBook<FrontEnd>)
    where FrontEnd.Configuration == Settings.FrontEndConfiguration {
        let words = book.data.words
        chapter.section("\(measured.count + 2). The paper says, we see")
        chapter.say("""
            The same runs, scored once on the \(book.data.testCount) test \(words.examples) (the probes trained on the same draws \
            of \(words.labels)). Each finding of the paper is a goal: [yes] when this run shows its direction \
            on the test \(words.examples) with the linear probe averaged over the pretraining seeds, [no] when it does not. \
            A [no] is a result about this scale (\(config.recipe.steps) steps on \(book.data.pretrainingCount) \(words.pretrainedOn), a \
            \(config.recipe.encoder.blockCount)-block model), not a failure of the code: the claims of section 1 are what the code guarantees.
            """)
        print("  " + "ablation: arm".padding(toLength: 46, withPad: " ", startingAt: 0) + "linear probe".padding(toLength: 20, withPad: " ", startingAt: 0)
              + config.neighbourName.padding(toLength: 20, withPad: " ", startingAt: 0) + "probe minus default")
        for m in measured {
            for (i, arm) in m.ablation.arms.enumerated() {
                let paired = arm.label == m.ablation.defaultArm ? "(the default)" : m.pairedDifferences(i, \.testProbe).map(signedSpread) ?? "-"
                print("  " + "\(m.ablation.name): \(arm.label)\(arm.label == m.ablation.paperChoice ? " *" : "")".padding(toLength: 46, withPad: " ", startingAt: 0)
                      + spread(m.seedMeans(i, \.testProbe)).padding(toLength: 20, withPad: " ", startingAt: 0)
                      + spread(m.seedMeans(i, \.testNeighbours)).padding(toLength: 20, withPad: " ", startingAt: 0) + paired)
            }
        }
        print("  * the paper's choice; test \(words.examples); mean over \(config.pretrainingSeeds) pretraining seeds (range of the seeds' means)")
        print("  \(book.runs.count) pretraining runs of \(config.recipe.steps) steps: \(formatDuration(book.pretrainingSeconds)) of pretraining summed over the runs (two ran at a time)\n")
        for m in measured {
            let means = m.means(\.testProbe)
            for (statement, finding) in m.ablation.findings {
                let shown = m.ablation.arms.map { String(format: "%@ %.1f", $0.label, 100 * (means[$0.label] ?? .nan)) }.joined(separator: ", ")
                chapter.outcome(finding.holds(means), "\(m.ablation.name) (paper \(m.ablation.source)): \(statement) (\(shown))")
            }
        }
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter08ExerciseTests.swift checks what can be checked in seconds; \
            chapters/08-ablations/README.md gives the outcomes):
            (1) Which field does each arm change? Read Sources/Data2Vec/Ablations.swift and predict the one line \
            section 1 prints for "K = 2". (2) With radius 0 each teacher patch sees only itself: what is left of \
            the teacher's context in its targets after 4 blocks? (3) The target-type arm "self-attention" collapses \
            speech in the paper (Table 5); on images, pre-LN, does its lowest target variance show a collapse? \
            (4) --pretrain-steps 3000: do the headline directions grow clearer with longer pretraining?
            """)
    }
}
