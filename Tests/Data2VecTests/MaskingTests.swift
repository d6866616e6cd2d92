// Masking policies, tested on their statistics (many seeded draws) and their rules.
import Autograd
@testable import Data2Vec
import Testing

@Suite("Masking")
struct MaskingTests {
    @Test(arguments: [100, 250, 500, 1000])
    func spanMaskingMasksAboutHalfTheFrames(_ length: Int) {
        // Paper section 4.2: p = 0.65, l = 10 masks "approximately 49%" of the time steps.
        var rng = RandomGenerator(seed: UInt64(length))
        let masking = SpanMasking(probability: 0.65, spanLength: 10, sameCountPerRow: false)
        var total = 0.0
        let draws = 400
        for _ in 0..<(draws / 8) { total += masking(batchSize: 8, length: length, using: &rng).ratio * 8 }
        let ratio = total / Double(draws)
        #expect(ratio > 0.46 && ratio < 0.52, "masked ratio \(ratio) at T = \(length)")
    }

    @Test func spansAreContiguousRunsOfTheSpanLength() {
        // With a low probability spans rarely overlap: every run of masked positions has length l
        // (or a multiple, when two spans touch), except a run cut by the end of the row.
        var rng = RandomGenerator(seed: 1)
        let mask = SpanMasking(probability: 0.05, spanLength: 5, sameCountPerRow: false)(batchSize: 50, length: 200, using: &rng)
        for row in mask.isMasked {
            var run = 0
            for (t, masked) in (row + [false]).enumerated() {
                if masked { run += 1; continue }
                if run > 0 && t < 200 { #expect(run >= 5) }
                run = 0
            }
        }
        #expect(mask.maskedCounts.allSatisfy { $0 >= 5 || $0 == 0 })  // at least one span (minimumSpans 1)
    }

    @Test func sameCountPerRowAndPaddingExcluded() {
        var rng = RandomGenerator(seed: 2)
        let lengths = [120, 80, 100, 60]
        let mask = SpanMasking()(batchSize: 4, length: 120, validLengths: lengths, using: &rng)
        #expect(Set(mask.maskedCounts).count == 1)  // require_same_masks
        for (b, length) in lengths.enumerated() { #expect(!mask.isMasked[b][length...].contains(true)) }
    }

    @Test func aRowTooShortToMaskStaysUnmaskedAndDoesNotEmptyTheBatch() {
        // fairseq's compute_mask_indices would give a row of valid length 1 no mask (or mask all of it) and,
        // with require_same_masks, trim every other row to that count. Here the short rows are set aside.
        var rng = RandomGenerator(seed: 4)
        let mask = SpanMasking(probability: 0.65, spanLength: 5)(batchSize: 4, length: 60, validLengths: [60, 1, 0, 50], using: &rng)
        #expect(mask.maskedCounts[1] == 0 && mask.maskedCounts[2] == 0)
        #expect(mask.maskedCounts[0] > 0 && mask.maskedCounts[0] == mask.maskedCounts[3])
    }

    @Test func aRowIsNeverMaskedEntirely() {
        // T <= l: every span would cover the whole row, where fairseq raises "the entire sequence is
        // masked". Here one position of the row stays visible.
        var rng = RandomGenerator(seed: 5)
        let masking = SpanMasking(probability: 0.9, spanLength: 10, sameCountPerRow: false)
        for length in 2...12 {
            let mask = masking(batchSize: 20, length: length, using: &rng)
            #expect(mask.maskedCounts.allSatisfy { $0 >= 1 && $0 < length }, "T = \(length): \(mask.maskedCounts)")
        }
    }

    @Test func blockMaskingHitsItsTargetWithBlocks() {
        // 7 x 7 grid, target 29 (60%), blocks of at least 4 patches.
        var rng = RandomGenerator(seed: 3)
        let masking = BlockMasking(rows: 7, columns: 7, targetCount: 29, minimumBlock: 4)
        let mask = masking(batchSize: 500, using: &rng)
        let counts = mask.maskedCounts
        let mean = Double(counts.reduce(0, +)) / 500
        #expect(mean > 26 && mean <= 29, "mean masked \(mean)")  // BEiT: slightly under the target on average
        #expect(counts.allSatisfy { $0 <= 29 })
        // Masks come in blocks: most masked patches have a masked 4-neighbour.
        var withNeighbour = 0, masked = 0
        for row in mask.isMasked {
            for i in 0..<49 where row[i] {
                masked += 1
                let (r, c) = (i / 7, i % 7)
                let neighbours = [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)].filter { $0.0 >= 0 && $0.0 < 7 && $0.1 >= 0 && $0.1 < 7 }
                if neighbours.contains(where: { row[$0.0 * 7 + $0.1] }) { withNeighbour += 1 }
            }
        }
        #expect(Double(withNeighbour) / Double(masked) > 0.95)
    }

    @Test func bertMaskingSplitsEightyTenTen() {
        var rng = RandomGenerator(seed: 4)
        let special: Set<Int> = [0, 1, 2]  // <s>, <pad>, </s>
        let masking = BERTMasking(maskToken: 3, vocabularySize: 100, specialTokens: special)
        let tokens = (0..<400).map { _ in [0] + (0..<62).map { _ in 4 + rng.int(below: 96) } + [2] }
        let result = masking(tokens, using: &rng)
        var selected = 0, masked = 0, unchanged = 0, random = 0, eligible = 0
        for b in 0..<tokens.count {
            for t in 0..<64 {
                #expect(!(special.contains(tokens[b][t]) && result.selected.isMasked[b][t]))  // specials never chosen
                if !special.contains(tokens[b][t]) { eligible += 1 }
                guard result.selected.isMasked[b][t] else { #expect(result.tokens[b][t] == tokens[b][t]); continue }
                selected += 1
                if result.tokens[b][t] == 3 { masked += 1; #expect(result.showsMaskToken.isMasked[b][t]) }
                else if result.tokens[b][t] == tokens[b][t] { unchanged += 1 } else { random += 1 }
            }
        }
        let s = Double(selected)
        #expect(abs(s / Double(eligible) - 0.15) < 0.005)
        #expect(abs(Double(masked) / s - 0.8) < 0.03 && abs(Double(unchanged) / s - 0.1) < 0.03 && abs(Double(random) / s - 0.1) < 0.03)
    }

    @Test func maskHelpers() {
        let mask = Mask([[true, false, true], [false, false, true]])
        #expect(mask.flatIndices == [0, 2, 5])
        #expect(mask.maskedCounts == [2, 1] && abs(mask.ratio - 0.5) < 1e-12)
        #expect(mask.tensor.shape == [2, 3, 1] && mask.tensor.scalars == [1, 0, 1, 0, 0, 1])
    }
}
