// The answer key of chapter 02's exercises: the part of each answer that can be checked in seconds.
@testable import Autograd
import Foundation
import Testing

@Suite("Chapter 02 exercises")
struct Chapter02ExerciseTests {
    /// Exercise 1: sin as a scalar op. d sin(x) / dx = cos(x); the central difference agrees to O(eps^2).
    @Test func exercise1_sinMatchesFiniteDifferences() {
        for x0 in [-2.0, -0.3, 0.0, 1.1, 2.5] {
            let eps = 1e-4
            let numeric = (sin(x0 + eps) - sin(x0 - eps)) / (2 * eps)
            #expect(abs(numeric - cos(x0)) < 1e-7)
        }
        // The tensor engine's unary ops are checked the same way (GradientCheckTests); tanh is the closest:
        let x = Tensor([0.3, -1.2, 2.0], requiresGradient: true)
        #expect(GradientCheck.check([x]) { $0[0].tanh() }.passed)
    }

    /// Exercise 2 (--learning-rate 2): SGD with momentum 0.9 on a valley of curvature c, f = c x^2 / 2, is stable
    /// only while lr c < 2 (1 + 0.9) = 3.8. The two-moons loss has directions of curvature well above 2, so
    /// lr = 2 passes the limit and the loss blows up (the chapter stops: "training diverged").
    @Test func exercise2_tooLargeAStepDiverges() {
        func run(_ lr: Double, curvature c: Double) -> Double {
            var (x, v) = (1.0, 0.0)
            for _ in 0..<300 { v = 0.9 * v + c * x; x -= lr * v }
            return abs(x)
        }
        #expect(run(0.05, curvature: 4) < 1e-3)
        #expect(run(2.0, curvature: 1) < 1e-3)   // below the limit: 2 < 3.8
        #expect(run(2.0, curvature: 4) > 1e6)    // above it: 8 > 3.8
    }

    /// Exercise 3 (--hidden 4): a ReLU network's output is piecewise linear; each hidden unit of one input
    /// switches at one point, x = -b / w, so 4 units make at most 4 kinks. (With two inputs, each unit switches
    /// along a line: the decision boundary of 4 units is made of at most a few straight pieces.)
    @Test func exercise3_fewUnitsFewKinks() {
        var rng = RandomGenerator(seed: 3)
        let w1 = (0..<4).map { _ in Double(rng.normal()) }, b1 = (0..<4).map { _ in Double(rng.normal()) }
        let w2 = (0..<4).map { _ in Double(rng.normal()) }
        func f(_ x: Double) -> Double { (0..<4).reduce(0) { $0 + w2[$1] * max(0, w1[$1] * x + b1[$1]) } }
        let xs = stride(from: -5.0, through: 5, by: 0.001).map { $0 }
        var kinks: [Double] = []
        for i in 1..<(xs.count - 1) {
            let left = f(xs[i]) - f(xs[i - 1]), right = f(xs[i + 1]) - f(xs[i])
            if abs(left - right) > 1e-9, kinks.last.map({ xs[i] - $0 > 0.01 }) ?? true { kinks.append(xs[i]) }
        }
        let switches = (0..<4).map { -b1[$0] / w1[$0] }.filter { abs($0) < 5 }
        #expect(kinks.count <= 4 && kinks.count == switches.count)
    }
}
