// Chapter 05, section 6: what this run showed, and exercises.
import ChapterKit
import Evaluation
import Foundation

extension Chapter05 {
    func summary(_ chapter: Chapter, _ config: VisionConfig, pretraining: PretrainingResult, labels: LabelResults,
                 diagnosis: [DiagnosisRow], trainCount: Int) {
        chapter.section("6. Summary")
        if options.quick { chapter.say("(Quick mode: \(config.pretrainingSteps) pretraining steps on \(trainCount) images; the numbers mean nothing yet.)") }
        let fewest = labels.counts.first!, most = labels.counts.last!
        func mean(_ values: [Int: SeedStatistics], _ count: Int) -> Float { 100 * (values[count]?.mean ?? .nan) }
        let pooled = diagnosis[diagnosis.count - 2], unpooled = diagnosis.last!
        let gapFew = mean(labels.fineTuned, fewest) - mean(labels.scratch, fewest)
        let gapMost = mean(labels.fineTuned, most) - mean(labels.scratch, most)
        let gapSentence = gapFew > gapMost
            ? "the gap narrows (from %.1f to %.1f points). Pretraining is worth the most when labels are few, the paper's message in small."
            : "the gap does not narrow (%.1f points with the fewest labels, %.1f with the most), so this run does not show the paper's low-label message."
        let pooledSentence = pooled.data2vec < unpooled.data2vec
            ? "trails the probe on the 49 unpooled patch vectors (%.1f%%, pixels %.1f%%): averaging the patches throws away where each stroke "
                + "is, and a tiny encoder that saw the images %.0f times has only partly moved that into every patch."
            : "is level with or above the probe on the 49 unpooled patch vectors (%.1f%%, pixels %.1f%%; %.0f passes over the images)."
        chapter.say(String(format: """
            With %d labels, fine-tuning from data2vec reaches %.1f%% against %.1f%% from scratch, and the data2vec \
            probe %.1f%% against %.1f%% for a random encoder. With %d labels: %.1f%% fine-tuned, %.1f%% from scratch, \
            probe %.1f%%; \(gapSentence) The probe on pooled features (%.1f%%) \(pooledSentence)
            """, fewest, mean(labels.fineTuned, fewest), mean(labels.scratch, fewest), mean(labels.probe, fewest),
            mean(labels.randomProbe, fewest), most, mean(labels.fineTuned, most), mean(labels.scratch, most), mean(labels.probe, most),
            gapFew, gapMost, 100 * pooled.data2vec, 100 * unpooled.data2vec, 100 * diagnosis[0].data2vec,
            Double(config.pretrainingSteps * config.batchSize) / Double(trainCount)))
        chapter.say("""
            Exercises (Tests/ExerciseTests/Chapter05ExerciseTests.swift holds the checkable part of each answer):
            (1) --top-k 1: the target becomes the last block alone. Predict the probe, run, compare.
            (2) --minimum-block 1: the mask is scattered single patches, each with visible neighbours. Is the task \
            easier or harder for the student, and what happens to the probe?
            (3) --target feed-forward: the speech and text target point on images. In a pre-LN block the FFN output \
            is what the block adds to the residual stream; what do targets lose by leaving out the stream itself?
            (4) --reuse-checkpoint with --data-dir pointing at other MNIST-format images (the same file names): \
            the evaluation runs again on them without pretraining.
            """)
    }
}
