// Greedy CTC decoding, the edit distance and the error rate, on cases small enough to check by eye.
import Autograd
@testable import Evaluation
import Testing

@Suite("Sequence decoding")
struct DecodingTests {
    @Test func greedyDecodingMergesRepeatsAndDropsBlanks() {
        // Frame-wise best symbols: 0 3 3 0 3 5 5 | 2 (the last frame is padding for sample 0).
        let best = [0, 3, 3, 0, 3, 5, 5, 2]
        let logits = Tensor(shape: [1, 8, 6], best.flatMap { b in (0..<6).map { $0 == b ? Float(1) : 0 } })
        #expect(greedyDecode(logits: logits, lengths: [7]) == [[3, 3, 5]])
        #expect(greedyDecode(logits: logits, lengths: [8]) == [[3, 3, 5, 2]])
    }

    @Test func editDistanceCountsInsertionsDeletionsSubstitutions() {
        #expect(editDistance([1, 2, 3], [1, 2, 3]) == 0)
        #expect(editDistance([1, 3], [1, 2, 3]) == 1)        // a deletion
        #expect(editDistance([1, 2, 4, 3], [1, 2, 3]) == 1)  // an insertion
        #expect(editDistance([7, 2, 3], [1, 2, 3]) == 1)     // a substitution
        #expect(editDistance([], [1, 2]) == 2 && editDistance([5, 6, 7], []) == 3)
        #expect(errorRate(hypotheses: [[1, 3], [4]], references: [[1, 2, 3], [4]]) == 0.25)
    }
}
