// Statistics pooling (Evaluation/TimePooling.swift), worked by hand.
import Testing
@testable import Autograd
@testable import Evaluation

@Suite("Statistics pooling over time")
struct TimePoolingTests {
    /// Row 0 has 3 valid frames of one channel, 1, 2, 6: mean 3, variance (4 + 1 + 9) / 3 = 14 / 3, deviation
    /// 2.160247; its fourth frame (100) is padding and must not count. Row 1 has one frame, 5: mean 5, deviation 0.
    @Test func meanAndDeviationOfTheValidFramesOnly() {
        let x = Tensor(shape: [2, 4, 1], [1, 2, 6, 100, 5, 7, 7, 7])
        let pooled = meanAndDeviationOverTime(x, lengths: [3, 1])
        #expect(pooled.shape == [2, 2])
        let expected: [Float] = [3, 2.160247, 5, 0]
        #expect(zip(pooled.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(pooled.scalars)")
    }
}
