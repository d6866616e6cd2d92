// # Chapter 04: data2vec, the algorithm
//
// What you will learn
//   1. the three masking policies (speech spans, image blocks, BERT tokens), drawn and measured;
//   2. the EMA teacher and its tau schedule;
//   3. how a target is built from the teacher's top K blocks, and why each layer is normalized;
//   4. the loss, at the masked positions only;
//   5. representation collapse: what happens without target normalization, or with a teacher that is
//      the student (tau = 0), measured with fairseq's variance monitor.
// Prerequisites: chapters 02-03. Run: `swift run -c release ch04-data2vec` (`--quick`: seconds).
// Letters: B batch, T time steps (or patches, or tokens), D width, K averaged blocks, tau the EMA decay.
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import NN
import Plot

struct Chapter04: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch04-data2vec", abstract: "Masking, teacher, targets, loss, collapse.")
    @OptionGroup var options: ChapterOptions

    func run() throws {
        let chapter = Chapter(number: 4, title: "data2vec, the algorithm", options: options)
        maskingPolicies(chapter)
        teacherSchedule(chapter)
        targetConstruction(chapter)
        lossSection(chapter)
        try collapseExperiment(chapter)
        chapter.section("Summary")
        chapter.say("""
            data2vec in four parts: a mask (spans, blocks or tokens), a teacher that is a slow average of the \
            student, targets averaged from the teacher's top K blocks with each block normalized, and a \
            regression loss at the masked positions. The same code (Sources/Data2Vec) serves all three \
            modalities; only the front end and the mask change. Collapse is the failure to watch for, and the \
            variance monitor is how to see it.
            Exercises: (1) run (c) with tau = 0.99 instead of 0 and find where collapse starts; (2) switch (a) to \
            layer norm over channels (`layerwise: .layer`) and compare the variances; (3) set K = 1 and compare the \
            loss curves. Tests/Data2VecTests holds the checks of every piece (mask statistics, EMA arithmetic, \
            targets against PyTorch, the loss on masked positions only).
            """)
        try chapter.finish()
    }
}
