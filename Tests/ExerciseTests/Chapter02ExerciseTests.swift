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

    /// Exercise 2 (--learning-rate 2): the chapter's run, step for step (the same points, initialization, batches
    /// and update as chapters/02-autograd/TwoMoons.swift), trained with the engine. With steps of 2 the first
    /// updates push the hidden units' pre-activations below zero for every point: the ReLUs die, no gradient
    /// reaches them again, and the network answers the same for every point (50%, the loss near ln 2, bouncing
    /// because the output biases alone still move, by steps far too large). A linear classifier cannot die this
    /// way: in the chapter's run it still learns at the same step. Checked here, and on the chapter's log.
    @Test func exercise2_tooLargeAStepKillsTheReLUs() throws {
        /// The chapter's section 4 with seed 0: returns the test accuracy and the fraction of the hidden units
        /// (both layers) that fire for at least one training point.
        func chapterRun(learningRate: Float) -> (accuracy: Double, alive: Double) {
            var rng = RandomGenerator(seed: 0)
            func moons(_ count: Int) -> (Tensor, [Int]) {
                var values: [Float] = [], labels: [Int] = []
                for i in 0..<count {
                    let label = i % 2, t = rng.uniform(0, .pi)
                    let (x, y) = label == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
                    values += [x + 0.15 * rng.normal(), y + 0.15 * rng.normal()]
                    labels.append(label)
                }
                return (Tensor(shape: [count, 2], values), labels)
            }
            let (points, labels) = moons(1000), (testPoints, testLabels) = moons(1000)
            var parameters: [Tensor] = []
            for (fanIn, fanOut) in [(2, 32), (32, 32), (32, 2)] {
                parameters += [Tensor.normal([fanIn, fanOut], std: (2 / Float(fanIn)).squareRoot(), using: &rng, requiresGradient: true),
                               Tensor.zeros([fanOut], requiresGradient: true)]
            }
            func hidden(_ x: Tensor) -> (Tensor, Tensor) {
                let h1 = (x.matmul(parameters[0]) + parameters[1]).relu()
                return (h1, (h1.matmul(parameters[2]) + parameters[3]).relu())
            }
            func logits(_ x: Tensor) -> Tensor { hidden(x).1.matmul(parameters[4]) + parameters[5] }
            let velocities = parameters.map { Tensor.zeros($0.shape) }
            var order = rng.permutation(1000), cursor = 0
            for _ in 0..<2000 {
                if cursor + 64 > order.count { rng.shuffle(&order); cursor = 0 }
                let batch = Array(order[cursor..<(cursor + 64)])
                cursor += 64
                Tensor.softmaxCrossEntropy(logits: logits(points.indexSelect(batch, along: 0)), labels: batch.map { labels[$0] }).backward()
                for (p, v) in zip(parameters, velocities) {
                    let (pp, vp, gp) = (p.storage.pointer, v.storage.pointer, p.grad!.storage.pointer)
                    for i in 0..<p.count { vp[i] = 0.9 * vp[i] + gp[i]; pp[i] -= learningRate * vp[i] }
                    p.zeroGradient()
                }
            }
            let (scores, units) = Tensor.withoutGradients { (logits(testPoints).scalars, hidden(points)) }
            let correct = testLabels.indices.filter { (scores[2 * $0 + 1] > scores[2 * $0] ? 1 : 0) == testLabels[$0] }.count
            let firing = units.0.max(alongAxis: 0).scalars + units.1.max(alongAxis: 0).scalars
            return (Double(correct) / 1000, Double(firing.filter { $0 > 0 }.count) / 64)
        }
        let (gentle, large) = (chapterRun(learningRate: 0.05), chapterRun(learningRate: 2))
        #expect(gentle.accuracy > 0.95 && gentle.alive > 0.5)
        #expect(large.accuracy < 0.6 && large.alive < 0.1)

        let log = try ExerciseLog("exercises/ch02-learning-rate-2")
        let line = log.numbers(onLineWith: "accuracy train")   // first loss, 20, last loss, 50, train %, test %
        #expect(line.count == 6 && line[5] == 50 && abs(line[2] - 0.69) < 0.1)
        #expect(try #require(log.number(after: "a linear classifier trained the same way: test accuracy")) > 80)
    }

    /// Exercise 3 (--hidden 4): a ReLU network's output is piecewise linear; each hidden unit of one input
    /// switches at one point, x = -b / w, so 4 units make at most 4 kinks. (With two inputs, each unit switches
    /// along a line: the decision boundary of 4 units is made of at most a few straight pieces.)
    @Test func exercise3_fewUnitsFewKinks() throws {
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

        // The chapter's run with 4 units per layer: a few pieces are enough for two moons (above 95%).
        let log = try ExerciseLog("exercises/ch02-hidden-4")
        #expect(try #require(log.numbers(onLineWith: "accuracy train").last) > 95)
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
