// The between-sequence share of variance (Evaluation/SequenceVarianceShare.swift), worked by hand.
import Testing
@testable import Autograd
@testable import Evaluation

@Suite("Share of variance between sequences")
struct SequenceVarianceShareTests {
    /// One channel, sequences [1, 3] and [5, 7]: overall mean 4, total sum of squares 9 + 1 + 1 + 9 = 20; sequence
    /// means 2 and 6, between-sequence sum of squares 2 * 4 + 2 * 4 = 16; share 16 / 20 = 0.8. Added in two batches,
    /// the second with a padded position (100) that must not count.
    @Test func handWorkedCaseAcrossBatches() {
        var share = SequenceVarianceShare()
        share.add(Tensor(shape: [1, 2, 1], [1, 3]))
        share.add(Tensor(shape: [1, 3, 1], [5, 7, 100]), lengths: [2])
        #expect(abs(share.share - 0.8) < 1e-9, "\(share.share)")
    }

    /// Two channels: the first constant within each sequence (all between), the second with equal sequence means
    /// (all within). Sums of squares: channel 1, values 1, 1, 3, 3: total 4, between 4; channel 2, values 0, 2, 2, 0:
    /// total 4, between 0. Share (4 + 0) / (4 + 4) = 0.5.
    @Test func channelsAddTheirSumsOfSquares() {
        var share = SequenceVarianceShare()
        share.add(Tensor(shape: [2, 2, 2], [1, 0, 1, 2, 3, 2, 3, 0]))
        #expect(abs(share.share - 0.5) < 1e-9, "\(share.share)")
    }

    /// Invariants: outputs that only depend on the sequence give 1, outputs whose sequence means are all equal give 0,
    /// outputs that do not vary give 0, and nothing added gives 0.
    @Test func extremes() {
        var constantPerSequence = SequenceVarianceShare(), centred = SequenceVarianceShare(), flat = SequenceVarianceShare()
        constantPerSequence.add(Tensor(shape: [3, 4, 1], [2, 2, 2, 2, -1, -1, -1, -1, 5, 5, 5, 5]))
        centred.add(Tensor(shape: [2, 2, 1], [1, -1, -1, 1]))
        flat.add(Tensor(shape: [2, 3, 1], [7, 7, 7, 7, 7, 7]))
        #expect(abs(constantPerSequence.share - 1) < 1e-9)
        #expect(abs(centred.share) < 1e-9)
        #expect(flat.share == 0)
        #expect(SequenceVarianceShare().share == 0)
    }
}
