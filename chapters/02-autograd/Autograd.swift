// # Chapter 02: Automatic differentiation, from one number to tensors
//
// What you will learn
//   1. backpropagation on scalars: a graph of Values and the chain rule, in 80 lines (Value.swift);
//   2. the same on tensors: each op records a backward rule, `backward()` runs them in reverse;
//   3. how to trust a gradient: compare it with finite differences, step by step;
//   4. train a small network (an MLP) on a 2-D toy problem and look at what it learned.
// Prerequisites: chapter 01. Run: `swift run -c release ch02-autograd` (`--quick`: a few seconds).
// Letters for shapes: N points, F features (2 here), H hidden units, C classes (2).
import ArgumentParser
import Autograd
import ChapterKit
import Foundation
import Plot

/// Every knob of section 4's training run. Printed at the start.
struct MoonsConfig: Equatable {
    var points = 1000
    var noise: Float = 0.15
    var hidden = 32
    var steps = 2000
    var batchSize = 64
    var learningRate: Float = 0.05
    var momentum: Float = 0.9

    /// Everything but the step count as the chapter's claims assume it.
    var hasDefaultModel: Bool {
        var other = self
        other.steps = MoonsConfig().steps
        return other == MoonsConfig()
    }
}

struct Chapter02: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch02-autograd", abstract: "Scalar and tensor autograd; an MLP on two moons.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Hidden units per layer of the MLP (default 32).") var hidden: Int?
    @Option(help: "SGD learning rate (default 0.05).") var learningRate: Float?

    func validate() throws {
        if let hidden, !(1...4096).contains(hidden) { throw ValidationError("--hidden must be between 1 and 4096, got \(hidden)") }
        if let learningRate, !(learningRate > 0 && learningRate <= 100) { throw ValidationError("--learning-rate must be in (0, 100], got \(learningRate)") }
    }

    func run() throws {
        let chapter = try Chapter(number: 2, title: "Automatic differentiation, from one number to tensors", options: options)
        var config = MoonsConfig()
        if options.quick { config.steps = 300 }
        if let hidden { config.hidden = hidden }
        if let learningRate { config.learningRate = learningRate }
        chapter.printConfiguration(config)
        scalarEngine(chapter)
        tensorEngine(chapter)
        gradientCheckByHand(chapter)
        try trainTwoMoons(chapter, config)
        chapter.section("Summary")
        chapter.say("""
            Reverse-mode differentiation needs only two things per op: its inputs and the rule that turns the \
            gradient of its output into gradients of its inputs. Visiting the ops in reverse topological order \
            makes every gradient complete before it is passed on, and adding (not assigning) gradients handles \
            a value used twice. The gradient check is the safety net: every op in this project has one \
            (Tests/AutogradTests/GradientCheckTests.swift).
            Exercises (Tests/ExerciseTests/Chapter02ExerciseTests.swift holds the checkable part of each answer): \
            (1) add a `sin` to Value and check it against finite differences; (2) --learning-rate 2: watch the loss; \
            (3) --hidden 4: predict what the decision boundary will look like before plotting it.
            """)
        try chapter.finish()
    }
}

func scalarEngine(_ chapter: Chapter) {
    chapter.section("1. A scalar engine")
    chapter.say("""
        A Value holds a number, its gradient, the Values it was computed from, and a closure that pushes its \
        gradient to them. For f = tanh(a * b + c) with a = 0.5, b = -1.5, c = 0.25: u = ab + c = -0.5, \
        f = tanh(u), and the chain rule gives df/da = (1 - f^2) * b, df/db = (1 - f^2) * a, df/dc = 1 - f^2.
        """)
    let a = Value(0.5), b = Value(-1.5), c = Value(0.25)
    let f = (a * b + c).tanh()
    f.backward()
    let local = 1 - f.data * f.data
    print(String(format: "  f = %.6f   df/da = %.6f   df/db = %.6f   df/dc = %.6f", f.data, a.grad, b.grad, c.grad))
    print(String(format: "  by hand:       (1-f^2) b = %.6f   (1-f^2) a = %.6f   1-f^2 = %.6f", local * -1.5, local * 0.5, local))
    chapter.check(abs(a.grad - local * -1.5) < 1e-12 && abs(b.grad - local * 0.5) < 1e-12 && abs(c.grad - local) < 1e-12,
                  "the scalar engine's gradients equal the chain rule by hand")
}

func tensorEngine(_ chapter: Chapter) {
    chapter.section("2. The same idea on tensors")
    chapter.say("""
        A Tensor does the same with whole arrays: `x.matmul(w)` records [x, w] and the rule \
        dx = dy w^T, dw = x^T dy (two more matrix products). Here is the graph of a one-layer loss, in the \
        order the forward pass computed it; `backward()` walks it from the end.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed)
    let x = Tensor.normal([4, 3], using: &rng)
    let w = Tensor.normal([3, 2], using: &rng, requiresGradient: true)
    let bias = Tensor.zeros([2], requiresGradient: true)
    let loss = Tensor.softmaxCrossEntropy(logits: (x.matmul(w) + bias).tanh(), labels: [0, 1, 1, 0])
    let operations = loss.graphOperations
    print("  graph: " + operations.joined(separator: " -> "))
    loss.backward()
    print("  loss \(loss.item); dL/dw has shape \(w.grad!.shape), dL/dbias = \(bias.grad!.scalars)")
    chapter.check(operations == ["leaf", "matmul", "leaf", "add", "tanh", "softmaxCrossEntropy"],
                  "the graph holds the two parameters and the four ops, in forward order")
    chapter.check(loss.graphOperations == ["softmaxCrossEntropy"], "after backward() the graph is released: only the loss node is left")
    chapter.check(w.grad!.shape == w.shape && bias.grad!.shape == bias.shape, "every parameter receives a gradient of its own shape")
}

func gradientCheckByHand(_ chapter: Chapter) {
    chapter.section("3. Checking a gradient with finite differences")
    chapter.say("""
        How do we know a backward rule is right? Nudge one input by +-eps and watch the loss: \
        (L(w + eps) - L(w - eps)) / (2 eps) approximates dL/dw with an error of order eps^2. In Float32, \
        eps = 1e-2 balances that error against rounding (about 1e-7 / eps).
        """)
    var rng = RandomGenerator(seed: chapter.options.seed.derived("gradient check"))
    let x = Tensor.normal([5, 3], using: &rng)
    let w = Tensor.normal([3, 4], std: 0.5, using: &rng, requiresGradient: true)
    func loss() -> Tensor { x.matmul(w).gelu().layerNorm().softmax().squared().sum() }
    loss().backward()
    let analytic = w.grad!.scalars
    let epsilon: Float = 1e-2
    print("  element   analytic dL/dw   (L(w+eps) - L(w-eps)) / 2eps   difference")
    var worst: Float = 0
    for j in [0, 5, 11] {
        let saved = w.storage.pointer[j]
        w.storage.pointer[j] = saved + epsilon
        let plus = Tensor.withoutGradients { loss().item }
        w.storage.pointer[j] = saved - epsilon
        let minus = Tensor.withoutGradients { loss().item }
        w.storage.pointer[j] = saved
        let numeric = (plus - minus) / (2 * epsilon)
        worst = max(worst, abs(numeric - analytic[j]))
        print(String(format: "  w[%2d]     %+.6f        %+.6f                     %.1e", j, analytic[j], numeric, abs(numeric - analytic[j])))
    }
    chapter.check(worst < 1e-3, "backprop and finite differences agree on the three elements shown (max difference \(worst))")
    w.zeroGradient()
    let report = GradientCheck.check([x, w]) { inputs in inputs[0].matmul(inputs[1]).gelu().layerNorm().softmax() }
    print("  all elements: \(report)")
    chapter.check(report.passed, "the automatic checker passes on matmul -> GELU -> layer norm -> softmax")
}
