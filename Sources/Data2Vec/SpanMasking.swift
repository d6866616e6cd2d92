// Span masking of wav2vec 2.0 and data2vec speech: fairseq's `compute_mask_indices`
// (fairseq/data/data_utils.py), with `mask_selection static` and overlaps allowed.
//
// For each row of valid length T (padding excluded):
//   1. the number of spans n = int(p * T / l + U[0, 1))  -- probabilistic rounding; at least `minimumSpans`;
//   2. n distinct start positions drawn uniformly from 0 ..< T - l (T - n - 1 when that would be too few);
//   3. each start s masks s ..< s + l (clipped at T); spans may overlap, so fewer than n * l positions end up
//      masked. With p = 0.65, l = 10 about 49% of the frames are masked (paper section 4.2).
//   4. with `sameCountPerRow` (fairseq's `require_same_masks`), every row keeps a random subset of its masked
//      positions as large as the smallest row's count, so all rows mask equally many. In a batch this pulls
//      the fraction below 49%: the smallest of B draws decides (about 42% at B = 12, T = 200).
//
// Two edge cases fairseq leaves undefined, given a defined behaviour here (tested):
//   - a row whose spans would cover every valid position (T <= l, for example): fairseq raises "the entire
//     sequence is masked"; here one random position of that row stays visible, so the student always has
//     something to look at;
//   - a row of valid length 0 or 1 cannot be masked without masking all of it: it gets no mask, and it is
//     left out when the rows are trimmed to the same count (fairseq would empty every row of the batch).
import Autograd

/// fairseq's `compute_mask_indices` for one batch: spans of `spanLength` positions, about `probability`
/// of each row masked before trimming.
///
/// ```swift
/// let masking = SpanMasking(probability: 0.65, spanLength: 10)
/// let mask = masking(batchSize: 8, length: 200, validLengths: lengths, using: &rng)  // mask.isMasked[b][t]
/// ```
public struct SpanMasking: Sendable, Equatable {
    /// `mask_prob`: the expected fraction of positions that start a span times the span length.
    public var probability: Double
    /// `mask_length`: positions per span.
    public var spanLength: Int
    /// `min_masks`.
    public var minimumSpans = 1
    /// `require_same_masks`.
    public var sameCountPerRow = true

    /// fairseq's defaults for data2vec speech: p 0.65, spans of 10, same count per row.
    public init(probability: Double = 0.65, spanLength: Int = 10, minimumSpans: Int = 1, sameCountPerRow: Bool = true) {
        require(probability >= 0 && spanLength >= 1, "SpanMasking: need probability >= 0 and span length >= 1")
        self.probability = probability
        self.spanLength = spanLength
        self.minimumSpans = minimumSpans
        self.sameCountPerRow = sameCountPerRow
    }

    /// Masks for `batchSize` rows of `length` positions; `validLengths[b]` (default: all) excludes the
    /// padding at the end of row b from masking.
    public func callAsFunction(batchSize: Int, length: Int, validLengths: [Int]? = nil, using rng: inout RandomGenerator) -> Mask {
        var rows: [[Int]?] = []  // nil: a row too short to mask
        for b in 0..<batchSize {
            let size = validLengths?[b] ?? length
            require(size <= length, "SpanMasking: valid length \(size) exceeds the row length \(length)")
            guard size > 1 else { rows.append(nil); continue }
            var spanCount = Int(probability * Double(size) / Double(spanLength) + rng.uniformDouble())
            spanCount = max(minimumSpans, spanCount)
            // Starts come from 0 ..< size - l; when that leaves too few, fairseq widens the range to n + 1.
            let startRange = size - spanLength <= spanCount ? spanCount + 1 : size - spanLength
            let starts = rng.choose(min(spanCount, startRange), from: startRange)
            var masked = Set<Int>()
            for start in starts { for offset in 0..<spanLength where start + offset < size { masked.insert(start + offset) } }
            if masked.count == size { masked.remove(rng.int(below: size)) }  // fairseq raises here
            rows.append(masked.sorted())
        }
        if sameCountPerRow, let smallest = rows.compactMap({ $0?.count }).min() {
            rows = rows.map { row in
                guard let row, row.count > smallest else { return row }
                return rng.choose(smallest, from: row.count).map { row[$0] }.sorted()
            }
        }
        var mask = [[Bool]](repeating: [Bool](repeating: false, count: length), count: batchSize)
        for (b, row) in rows.enumerated() { for t in row ?? [] { mask[b][t] = true } }
        return Mask(mask)
    }
}
