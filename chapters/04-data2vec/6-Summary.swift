// Chapter 04, section 6: summary and exercises.
import ChapterKit

extension Chapter04 {
    func summary(_ chapter: Chapter, _ config: Data2VecChapterConfig, collapse: CollapseResult) {
        chapter.section("6. Summary")
        chapter.say("""
            data2vec in four parts: a mask (spans, blocks or tokens), a teacher that is a slow average of the \
            student, targets averaged from the teacher's top K blocks with each block normalized, and a \
            regression loss at the masked positions. The same code (Sources/Data2Vec) serves all three \
            modalities; only the front end and the mask change. Collapse is the failure to watch for, and the \
            variance monitor is how to see it.
            Exercises (Tests/ExerciseTests/Chapter04ExerciseTests.swift holds the checkable part of each answer):
            (1) --span-batch 64: predict whether the masked fraction after require_same_masks rises or falls \
            with a larger batch, then run.
            (2) --layerwise-norm layer: runs (a) and (c) normalize each target block over its channels instead of \
            over time. Which axis does each normalization make zero-mean, and what happens to the variances?
            (3) --top-k 1: the target is one normalized block. Compare the loss curves.
            (4) --collapse-tau 0.99: (c) with a teacher whose memory is about 100 updates. Does it still collapse?
            """)
    }
}
