// Mini-batches of example indices in epochs: every index once per pass, in a new random order each pass.
import Autograd

/// Batches of indices that walk through a list in random order: when fewer than a batch remain, the list
/// is reshuffled and the walk starts again (every index is seen once per pass, as with epochs; the few left
/// over at the end of a pass wait for the next one).
///
/// ```swift
/// var batches = ShuffledBatches(labelledIndices, size: 64)
/// let batch = batches.next(using: &rng)  // 64 distinct indices
/// ```
public struct ShuffledBatches: Sendable {
    private var order: [Int]
    private var cursor: Int
    /// Indices per batch (the list's length when the list is shorter).
    public let size: Int
    /// Passes started so far (1 after the first batch).
    public private(set) var epoch = 0

    /// - Parameters:
    ///   - order: the indices to walk through (at least one).
    ///   - shuffleBeforeFirstBatch: false keeps `order` as given for the first pass.
    public init(_ order: [Int], size: Int, shuffleBeforeFirstBatch: Bool = true) {
        require(!order.isEmpty && size >= 1, "ShuffledBatches: need at least one index and a batch size >= 1")
        self.order = order
        self.size = min(size, order.count)
        cursor = shuffleBeforeFirstBatch ? order.count : 0
        if !shuffleBeforeFirstBatch { epoch = 1 }
    }

    /// The next batch of `size` indices.
    public mutating func next(using rng: inout RandomGenerator) -> [Int] {
        if cursor + size > order.count {
            rng.shuffle(&order)
            cursor = 0
            epoch += 1
        }
        defer { cursor += size }
        return Array(order[cursor..<(cursor + size)])
    }

    /// Batches per pass over the list.
    public var batchesPerEpoch: Int { order.count / size }
}

/// `indices` in consecutive chunks of at most `size` (for evaluating a whole set without a graph).
public func chunks(_ indices: [Int], size: Int) -> [[Int]] {
    stride(from: 0, to: indices.count, by: max(1, size)).map { Array(indices[$0..<min($0 + size, indices.count)]) }
}

/// Batches of indices whose items have similar lengths, so that little of a padded batch is padding
/// (fairseq orders by size and batches neighbours). The items are sorted by length with random ties, cut
/// into batches of `size`, and the batches shuffled. Every index appears once.
public func lengthBucketedBatches(_ indices: [Int], lengths: (Int) -> Int, size: Int, using rng: inout RandomGenerator) -> [[Int]] {
    let keyed = indices.map { (index: $0, length: lengths($0), tieBreak: rng.next()) }
    let order = keyed.sorted { ($0.length, $0.tieBreak) < ($1.length, $1.tieBreak) }.map(\.index)
    var batches = stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    rng.shuffle(&batches)
    return batches
}
