// A mask says which positions of each sequence the student does not see. data2vec predicts the teacher's
// representations at exactly these positions (paper section 3.2; fairseq `x[mask_indices]` in data2vec_audio.py).
import Autograd

/// Masked positions of a batch: `isMasked[b][t]` is true when position t of sample b is masked.
public struct Mask: Equatable, Sendable {
    /// isMasked[b][t]: whether position t of sample b is masked.
    public var isMasked: [[Bool]]

    /// A mask from rows of equal length.
    public init(_ isMasked: [[Bool]]) {
        require(isMasked.allSatisfy { $0.count == isMasked[0].count }, "Mask: rows of different lengths \(isMasked.map(\.count))")
        self.isMasked = isMasked
    }

    /// B.
    public var batchSize: Int { isMasked.count }
    /// T.
    public var length: Int { isMasked.first?.count ?? 0 }

    /// Masked positions per row.
    public var maskedCounts: [Int] { isMasked.map { $0.filter { $0 }.count } }

    /// Fraction of positions masked, over the whole batch.
    public var ratio: Double { Double(maskedCounts.reduce(0, +)) / Double(max(1, batchSize * length)) }

    /// Flat indices b * T + t of the masked positions, row by row (for gathering rows of a [B*T, D] tensor).
    public var flatIndices: [Int] {
        isMasked.enumerated().flatMap { b, row in row.indices.filter { row[$0] }.map { b * length + $0 } }
    }

    /// The mask as a [B, T, 1] tensor of 0/1, which broadcasts against [B, T, D] features.
    public var tensor: Tensor {
        Tensor(shape: [batchSize, length, 1], isMasked.flatMap { $0.map { $0 ? Float(1) : 0 } })
    }
}
