// The answer key of chapter 02's exercises: the part of each answer that can be checked in seconds.
@testable import Autograd
import Foundation
import Testing

@Suite("Chapter 02 exercises")
struct Chapter02ExerciseTests {
    /// Exercise 1: add `sin` to `Value`. The answer is the extension at the end of this file; delete it and write
    /// your own (in Sources/Autograd/Value.swift, beside `tanh`), and this test checks yours: the gradient that
    /// `backward()` finds through sin, inside a larger expression, against central differences of the same
    /// expression computed with the engine's forward pass.
    @Test func exercise1_sinHasTheGradientOfFiniteDifferences() {
        func f(_ x: Value) -> Value { (x.sin() * x + x.sin().exp()).tanh() }
        for x0 in [-2.0, -0.3, 0.0, 1.1, 2.5] {
            let x = Value(x0)
            f(x).backward()
            let eps = 1e-5
            let numeric = (f(Value(x0 + eps)).data - f(Value(x0 - eps)).data) / (2 * eps)
            #expect(abs(x.grad - numeric) < 1e-8, "x = \(x0)")
            #expect(abs(Value(x0).sin().data - sin(x0)) < 1e-15)
        }
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

extension Value {
    /// Exercise 1's answer: sin(x), whose derivative is cos(x) (delete this to write your own).
    func sin() -> Value {
        let out = Value(Foundation.sin(data), operation: "sin", children: [self])
        out.pushGradient = { out in self.grad += Foundation.cos(self.data) * out.grad }  // d sin(a) / da = cos(a)
        return out
    }
}
