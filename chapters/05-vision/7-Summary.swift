// Chapter 05, section 7: what this run showed, the goals, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter05 {
    func summary(_ chapter: Chapter, _ config: VisionConfig, _ setup: EvaluationSetup, pretraining: PretrainingResult,
                 pixels: PixelReferences, frozen: FrozenResults, tuned: FineTuningResults, curve: ComputeCurve) {
        chapter.section("7. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps on \(setup.train.count) images; the numbers mean nothing yet.)") }
        let pixel1NN = pixels.nearest[0], scratch = tuned.arm("from scratch")
        let long = tuned.arm("fine-tuned, long runs"), short = tuned.arm("fine-tuned, short run")
        let longFrozen = frozen.methods.first { $0.kind == "long runs" }?.scores
        func percent(_ value: Float?) -> String { value.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }

        // The headline table: every method at every count.
        print("  test accuracy, mean over draws (long runs: mean over pretraining seeds too)")
        print("  " + "labels:".padding(toLength: 44, withPad: " ", startingAt: 0) + setup.counts.map { String(format: "%10d", $0) }.joined())
        let rows: [(String, (Int) -> Float?)] = pixels.all.map { p in (p.name, { p.statistics($0)?.mean }) }
            + frozen.methods.flatMap(\.scores).map { s in (s.name, { s.mean($0) }) }
            + tuned.arms.map { a in (a.name, { a.mean($0) }) }
        for (name, value) in rows {
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + setup.counts.map { c in value(c).map { String(format: "%10.1f", 100 * $0) } ?? String(repeating: " ", count: 9) + "-" }.joined())
        }

        if let long, let scratch {
            print("\n  fine-tuned (long runs) minus from scratch, draw by draw, per pretraining seed:")
            for count in config.fineTuneCounts where setup.counts.contains(count) {
                let differences = long.runs.compactMap { $0.difference(from: scratch.runs[0], count: count) }
                print(String(format: "  %6d labels: ", count) + differences.map {
                    String(format: "%+.1f (%+.1f to %+.1f)", 100 * $0.mean, 100 * $0.values.min()!, 100 * $0.values.max()!) }.joined(separator: ";  "))
            }
        }
        say(chapter, config, setup, pixels: pixels, frozen: frozen, tuned: tuned, curve: curve)
        let everyScore = pixels.all + frozen.methods.flatMap { $0.scores.flatMap(\.runs) } + tuned.arms.flatMap(\.runs)
        let shared = sameLabelledExamples(everyScore)
        chapter.check(shared.holds, "every method was scored with the same labelled images at each count and draw (\(shared.compared) scores compared)")
        chapter.check(tuned.choices.allSatisfy { $0.heldOut > 0 },
                      "every learning rate chosen (\(tuned.choices.count) choices) was chosen on labelled images held out of its draw, none on test images")
        guard !options.quick else { return exercises(chapter) }

        // Goals, with the long runs (mean over pretraining seeds and draws).
        if let long, let scratch {
            if let tuned100 = long.mean(100) {
                chapter.outcome(tuned100 >= 0.90, "with 100 labels, fine-tuned from the long runs: at least 90% (\(percent(tuned100)))")
            }
            if let tuned1000 = long.mean(1000) {
                chapter.outcome(tuned1000 >= 0.96, "with 1,000 labels, fine-tuned from the long runs: at least 96% (\(percent(tuned1000)))")
            }
            let gaps = long.runs.compactMap { $0.difference(from: scratch.runs[0], count: 100)?.mean }
            if !gaps.isEmpty {
                chapter.outcome(gaps.allSatisfy { $0 >= 0.30 }, "with 100 labels, fine-tuned minus from scratch at least +30 points in every pretraining seed ("
                                + gaps.map { String(format: "%+.1f", 100 * $0) }.joined(separator: ", ") + ")")
            }
        }
        if let longFrozen {
            let best = longFrozen.compactMap { $0.mean(100) }.max()
            chapter.outcome((best ?? 0) >= 0.85, "with 100 labels, the k-NN or linear probe on frozen long-run features: at least 85% "
                            + "(best \(percent(best)); pixel 1-NN \(percent(pixel1NN.statistics(100)?.mean)))")
        }
        if let short, let shortTuned = short.mean(100), let pixel = pixel1NN.statistics(100)?.mean {
            chapter.outcome(shortTuned > pixel, "with 100 labels, fine-tuned from the chapter's short run (\(config.pretrainingSteps) steps) beats pixel 1-NN "
                            + "(\(percent(shortTuned)) against \(percent(pixel)))")
        }
        exercises(chapter)
    }

    /// What the run showed, in sentences decided by its numbers.
    func say(_ chapter: Chapter, _ config: VisionConfig, _ setup: EvaluationSetup, pixels: PixelReferences, frozen: FrozenResults,
             tuned: FineTuningResults, curve: ComputeCurve) {
        func percent(_ value: Float?) -> String { value.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
        func compared(_ a: Float, _ b: Float) -> String { a > b ? "above" : "not above" }
        var sentences: [String] = []
        let long = tuned.arm("fine-tuned, long runs"), scratch = tuned.arm("from scratch"), short = tuned.arm("fine-tuned, short run")
        let longFrozen = frozen.methods.first { $0.kind == "long runs" }?.scores ?? []
        for count in [100, 1000] where setup.counts.contains(count) {
            guard let best = pixels.best(count) else { continue }
            if let long, let tunedMean = long.mean(count) {
                sentences.append("With \(count) labels, fine-tuning the long runs reaches \(percent(tunedMean)) (pretraining seeds: "
                                 + long.runMeans(count).map { percent($0) }.joined(separator: ", ") + "), \(compared(tunedMean, best.mean)) the best "
                                 + "pixel reference (\(best.name), \(percent(best.mean))); from scratch, the same network reaches \(percent(scratch?.mean(count))).")
            }
            if let bestFrozen = longFrozen.compactMap({ s in s.mean(count).map { (s.name, $0) } }).max(by: { $0.1 < $1.1 }) {
                sentences.append("Frozen, the long runs' best probe at \(count) labels (\(bestFrozen.0)) reads \(percent(bestFrozen.1)), "
                                 + "\(compared(bestFrozen.1, best.mean)) that reference.")
            }
        }
        if let short, let shortMean = short.mean(100), let pixel = pixels.nearest[0].statistics(100)?.mean {
            sentences.append("The chapter's own short run (\(config.pretrainingSteps) steps) fine-tuned with 100 labels reaches \(percent(shortMean)), "
                             + "\(compared(shortMean, pixel)) pixel 1-NN (\(percent(pixel))).")
        }
        if let best = pixels.best(curve.count) {
            let first = curve.points.first { mean($0.probe) > best.mean }
            sentences.append(first.map { "On the compute curve the linear probe with \(curve.count) labels first passes the best pixel reference after \($0.steps) pretraining steps." }
                             ?? "On the compute curve the linear probe with \(curve.count) labels never passes the best pixel reference within these runs.")
        }
        if !sentences.isEmpty { chapter.say(sentences.joined(separator: " ")) }
    }

    func exercises(_ chapter: Chapter) {
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter05ExerciseTests.swift checks the part of each answer that can be \
            checked in seconds; chapters/05-vision/README.md gives the outcomes):
            (1) --top-k 1: the target becomes the last block alone. Predict the probe, run, compare.
            (2) --minimum-block 1: the mask is scattered single patches, each with visible neighbours. Is the task \
            easier or harder for the student, and what happens to the probe?
            (3) --target feed-forward: the speech and text target point on images. In a pre-LN block the FFN output \
            is what the block adds to the residual stream; what do targets lose by leaving out the stream itself?
            (4) --pretrained with a checkpoint of your own (--pretrain-only --checkpoint FILE): the chapter refuses \
            it if it was pretrained on the test images. Try it with --data-dir pointing at a copy whose test file \
            is the training file.
            """)
    }
}
