// Chapter 04, section 1: what the student does not see. Three masking policies, drawn and measured.
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import Plot

extension Chapter04 {
    func maskingPolicies(_ chapter: Chapter, _ config: Data2VecChapterConfig) {
        chapter.section("1. What the student does not see: three masking policies")
        let span = config.spanMasking
        chapter.say("""
            Speech (fairseq's compute_mask_indices): each frame starts a span of l = \(span.spanLength) frames with \
            probability p / l, p = \(span.probability); spans overlap, so about 49% of a sequence's frames end up \
            masked (paper section 4.2). In a batch, fairseq's `require_same_masks` then trims every row at random \
            to the smallest row's count, so that all rows mask equally many frames: the batch's fraction is set by \
            its unluckiest row, and falls below 49%. Images (BEiT's block masking): rectangles of at least a few \
            patches are added until about 60% of the grid is masked. Text (BERT): 15% of the tokens are chosen; \
            80% of those become <mask>, 10% a random token, 10% stay as they are.
            """)
        var rng = RandomGenerator(seed: chapter.options.seed)
        var perRow = span
        perRow.sameCountPerRow = false
        var ratios: [String] = [], worst = 0.0
        for length in config.spanLengths {
            let ratio = (0..<config.spanDraws).map { _ in perRow(batchSize: 1, length: length, using: &rng).ratio }.reduce(0, +) / Double(config.spanDraws)
            ratios.append(String(format: "T = %d: %.1f%%", length, 100 * ratio))
            worst = max(worst, abs(ratio - 0.49))
        }
        print("  span masking, one row at a time: " + ratios.joined(separator: ", "))
        chapter.check(worst < 0.03, "span masking with p = 0.65, l = 10 masks 49% +- 3 points of a row's frames at every length")

        let draws = max(20, config.spanDraws / 10)
        let batches: [(name: String, rows: Int, length: Int, masking: SpanMasking)] = [
            ("B = \(config.spanBatch.rows), T = \(config.spanBatch.length), l = \(span.spanLength)", config.spanBatch.rows, config.spanBatch.length, span),
            ("B = \(config.signal.batch), T = \(config.signal.length), l = \(config.collapseMasking.spanLength) (section 5's runs)",
             config.signal.batch, config.signal.length, config.collapseMasking)]
        for batch in batches {
            var untrimmed = batch.masking
            untrimmed.sameCountPerRow = false
            let trimmed = (0..<draws).map { _ in batch.masking(batchSize: batch.rows, length: batch.length, using: &rng).ratio }.reduce(0, +) / Double(draws)
            let loose = (0..<draws).map { _ in untrimmed(batchSize: batch.rows, length: batch.length, using: &rng).ratio }.reduce(0, +) / Double(draws)
            print(String(format: "  span masking in a batch, %@: %.1f%% per row, %.1f%% after require_same_masks", batch.name, 100 * loose, 100 * trimmed))
            chapter.check(trimmed < loose, String(format: "trimming to the same count per row lowers the masked fraction (%@: %.1f%% < %.1f%%)",
                                                  batch.name, 100 * trimmed, 100 * loose))
        }

        let blockMasks = config.blockMasking(batchSize: 1000, using: &rng)
        let meanCount = Double(blockMasks.maskedCounts.reduce(0, +)) / 1000
        let target = config.blockMasking.targetCount, cells = config.blockMasking.rows * config.blockMasking.columns
        print(String(format: "  block masking on the 7 x 7 grid, target %d: %.1f patches masked on average (%.1f%%)", target, meanCount, 100 * meanCount / Double(cells)))
        chapter.check(meanCount > Double(target) - 3 && meanCount <= Double(target),
                      "block masking masks close to its target of \(target) of \(cells) patches")

        let bert = BERTMasking(maskToken: 3, vocabularySize: 30, specialTokens: [0, 1, 2], selectionProbability: config.bertSelection)
        let sentence = [0, 11, 17, 24, 8, 29, 13, 5, 21, 9, 16, 27, 6, 19, 10, 2]
        let result = bert(Array(repeating: sentence, count: 2000), using: &rng)
        let chosen = result.selected.maskedCounts.reduce(0, +), shown = result.showsMaskToken.maskedCounts.reduce(0, +)
        let eligible = 2000 * (sentence.count - 2)
        print("  BERT masking of one sentence (0 = <s>, 2 = </s>, 3 = <mask>):")
        print("    original: \(sentence.map(String.init).joined(separator: " "))")
        print("    student:  \(result.tokens[0].map(String.init).joined(separator: " "))")
        print(String(format: "  over 2,000 copies: %.1f%% of the ordinary tokens chosen, %.1f%% of those shown as <mask>",
                     100 * Double(chosen) / Double(eligible), 100 * Double(shown) / Double(chosen)))
        chapter.check(abs(Double(chosen) / Double(eligible) - config.bertSelection) < 0.01 && abs(Double(shown) / Double(chosen) - 0.8) < 0.03,
                      "BERT masking chooses 15% of the tokens and shows <mask> at 80% of them")

        chapter.figure("04-span-masks.png") { path throws(PlotError) in
            var rowsRng = RandomGenerator(seed: chapter.options.seed.derived("span mask figure"))
            let mask = span(batchSize: config.spanBatch.rows, length: config.spanBatch.length, using: &rowsRng)
            var figure = Figure(title: String(format: "Span masking (p = %.2f, l = %d) of %d sequences of %d frames, same count per row (%.0f%% masked, red)",
                                              span.probability, span.spanLength, config.spanBatch.rows, config.spanBatch.length, 100 * mask.ratio),
                                xLabel: "frame", yLabel: "sequence")
            figure.add(.heatmap(values: mask.isMasked.map { $0.map { $0 ? 1.0 : 0.0 } }, xRange: 0...Double(config.spanBatch.length - 1),
                                yRange: 0...Double(config.spanBatch.rows - 1)))
            figure.extraSettings = ["unset colorbox", "set cbrange [0:1]", "unset key"]
            figure.xRange = -0.5...(Double(config.spanBatch.length) - 0.5)
            figure.yRange = -0.5...(Double(config.spanBatch.rows) - 0.5)
            figure.height = 320
            try figure.render(to: path)
        }
        chapter.figure("04-block-masks.png") { path throws(PlotError) in
            let images = (0..<8).map { blockMasks.isMasked[$0].map { $0 ? Float(1) : 0 } }
            try ImageGrid.render(images, width: 7, height: 7, columns: 8,
                                 titles: (0..<8).map { "\(blockMasks.maskedCounts[$0]) of \(cells)" },
                                 title: "Block masks on the 7 x 7 patch grid (white = masked, title = masked patches)", to: path, cellSize: 150)
        }
    }
}
