// Span masking of wav2vec 2.0 and data2vec speech: fairseq's `compute_mask_indices`
// (fairseq/data/data_utils.py; spec B.1), with `mask_selection static`, overlaps allowed.
//
// For each row of valid length T (padding excluded):
//   1. the number of spans n = int(p * T / l + U[0, 1))  -- probabilistic rounding; at least `minimumSpans`;
//   2. n distinct start positions drawn uniformly from 0 ..< T - l (T - n - 1 when that would be too few);
//   3. each start s masks s ..< s + l (clipped at T); spans may overlap, so fewer than n * l positions end up
//      masked. With p = 0.65, l = 10 about 49% of the frames are masked (paper section 4.2).
//   4. with `sameCountPerRow` (fairseq's `require_same_masks`), every row keeps a random subset of its masked
//      positions as large as the smallest row's count, so all rows mask equally many.
import Autograd

public struct SpanMasking: Sendable {
    /// `mask_prob`: the expected fraction of positions that start a span times the span length.
    public var probability: Double
    /// `mask_length`: positions per span.
    public var spanLength: Int
    /// `min_masks`.
    public var minimumSpans = 1
    /// `require_same_masks`.
    public var sameCountPerRow = true

    public init(probability: Double = 0.65, spanLength: Int = 10, minimumSpans: Int = 1, sameCountPerRow: Bool = true) {
        precondition(probability >= 0 && spanLength >= 1, "SpanMasking: need probability >= 0 and span length >= 1")
        self.probability = probability
        self.spanLength = spanLength
        self.minimumSpans = minimumSpans
        self.sameCountPerRow = sameCountPerRow
    }

    /// Masks for `batchSize` rows of `length` positions; `validLengths[b]` (default: all) excludes the
    /// padding at the end of row b from masking.
    public func callAsFunction(batchSize: Int, length: Int, validLengths: [Int]? = nil, using rng: inout RandomGenerator) -> Mask {
        var rows: [[Int]] = []
        for b in 0..<batchSize {
            let size = validLengths?[b] ?? length
            precondition(size <= length, "SpanMasking: valid length \(size) exceeds the row length \(length)")
            guard size > 1 else { rows.append([]); continue }
            var spanCount = Int(probability * Double(size) / Double(spanLength) + rng.uniformDouble())
            spanCount = max(minimumSpans, spanCount)
            // Starts come from 0 ..< size - l; when that leaves too few, fairseq widens the range to n + 1.
            let startRange = size - spanLength <= spanCount ? spanCount + 1 : size - spanLength
            let starts = rng.choose(min(spanCount, startRange), from: startRange)
            var masked = Set<Int>()
            for start in starts { for offset in 0..<spanLength where start + offset < size { masked.insert(start + offset) } }
            rows.append(masked.sorted())
        }
        if sameCountPerRow, let smallest = rows.map(\.count).min() {
            rows = rows.map { row in row.count > smallest ? rng.choose(smallest, from: row.count).map { row[$0] }.sorted() : row }
        }
        var mask = [[Bool]](repeating: [Bool](repeating: false, count: length), count: batchSize)
        for (b, row) in rows.enumerated() { for t in row { mask[b][t] = true } }
        return Mask(mask)
    }
}
