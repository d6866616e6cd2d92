// The answer key of chapter 01's exercises.
@testable import Autograd
import Foundation
import Testing

@Suite("Chapter 01 exercises")
struct Chapter01ExerciseTests {
    /// Exercise 1: [2, 1, 3] + [4, 1]. Aligned from the right, [4, 1] is [1, 4, 1]; each pair of sizes is equal
    /// or has a 1 to stretch, so the result is [2, 4, 3].
    @Test func exercise1_broadcastingStretchesTheOnes() throws {
        #expect(try Broadcasting.shape([2, 1, 3], [4, 1], op: "add") == [2, 4, 3])
        #expect((Tensor.zeros([2, 1, 3]) + Tensor.zeros([4, 1])).shape == [2, 4, 3])
    }

    /// Exercise 2: swapping the two inner loops of the textbook product (i-j-p to i-p-j) is the chapter's
    /// "cache-friendly" loop: it walks B and C along rows, and in the chapter's run it is faster than the
    /// textbook loop at every size.
    @Test func exercise2_theSwappedLoopIsFasterAtEverySize() throws {
        let log = try ExerciseLog("ch01-tensors")
        let rows = log.lines(containing: "e-0").map { log.numbers(in: $0) }.filter { $0.count >= 4 }
        #expect(rows.count >= 5)
        #expect(rows.allSatisfy { $0[2] > $0[1] })  // n, naive, cache-friendly, OpenBLAS
    }

    /// Exercise 3 (--threads 1): OpenBLAS's curve on one thread. The engine splits a large product into one
    /// block of rows per thread, so with one thread the largest products run at about half the rate.
    @Test func exercise3_oneThreadRunsTheLargeProductsAtAboutHalfTheRate() throws {
        func openBLAS(_ name: String, n: Double) throws -> Double {
            let log = try ExerciseLog(name)
            return log.lines(containing: "e-0").map { log.numbers(in: $0) }.first { $0.first == n }![3]
        }
        let (two, one) = (try openBLAS("ch01-tensors", n: 768), try openBLAS("exercises/ch01-threads-1", n: 768))
        #expect(one < 0.75 * two && one > 0.35 * two)
    }
}
