// Section 4 of chapter 02: an MLP trained on two interleaving half circles ("two moons").
import Autograd
import ChapterKit
import Foundation
import Plot

/// N points on two interleaving half circles with Gaussian noise (the construction of scikit-learn's
/// make_moons): class 0 on (cos t, sin t), class 1 on (1 - cos t, 0.5 - sin t), t uniform in [0, pi].
func makeMoons(count: Int, noise: Float, using rng: inout RandomGenerator) -> (points: Tensor, labels: [Int]) {
    var values: [Float] = [], labels: [Int] = []
    for i in 0..<count {
        let label = i % 2, t = rng.uniform(0, .pi)
        let (x, y) = label == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
        values += [x + noise * rng.normal(), y + noise * rng.normal()]
        labels.append(label)
    }
    return (Tensor(shape: [count, 2], values), labels)
}

/// A multilayer perceptron with two hidden layers (2-32-32-2 in this chapter), parameters listed
/// explicitly: F -> H -> H -> C with ReLU.
struct MLP {
    var parameters: [Tensor]

    init(sizes: [Int], using rng: inout RandomGenerator) {
        parameters = []
        for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
            // Kaiming (He) initialization: std sqrt(2 / fan-in) keeps the variance through ReLU layers.
            parameters.append(Tensor.normal([fanIn, fanOut], std: (2 / Float(fanIn)).squareRoot(), using: &rng, requiresGradient: true))
            parameters.append(Tensor.zeros([fanOut], requiresGradient: true))
        }
    }

    /// [N, F] -> logits [N, C].
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for layer in stride(from: 0, to: parameters.count, by: 2) {
            h = h.matmul(parameters[layer]) + parameters[layer + 1]
            if layer + 2 < parameters.count { h = h.relu() }
        }
        return h
    }
}

/// p <- p - lr * v with v <- momentum * v + grad: SGD with momentum, written out by hand.
/// (The Optim module holds the real optimizers; here the update is the point.)
func sgdStep(_ parameters: [Tensor], velocities: [Tensor], learningRate: Float, momentum: Float) {
    for (p, v) in zip(parameters, velocities) {
        guard let grad = p.grad else { continue }
        let pp = p.storage.pointer, vp = v.storage.pointer, gp = grad.storage.pointer
        for i in 0..<p.count {
            vp[i] = momentum * vp[i] + gp[i]
            pp[i] -= learningRate * vp[i]
        }
        p.zeroGradient()
    }
}

func accuracy(_ model: MLP, _ points: Tensor, _ labels: [Int]) -> Float {
    let logits = Tensor.withoutGradients { model(points) }.scalars
    let correct = labels.indices.filter { (logits[2 * $0 + 1] > logits[2 * $0] ? 1 : 0) == labels[$0] }.count
    return Float(correct) / Float(labels.count)
}

/// Minibatch training with softmax cross-entropy; returns the loss of every step.
func train(
    _ model: MLP, on data: (points: Tensor, labels: [Int]), steps: Int, batchSize: Int, learningRate: Float, momentum: Float,
    _ chapter: Chapter, using rng: inout RandomGenerator
) throws -> [Double] {
    let velocities = model.parameters.map { Tensor.zeros($0.shape) }
    let progress = ProgressLine("step", total: steps)
    var losses: [Double] = []
    var order = rng.permutation(data.labels.count), cursor = 0
    for step in 1...steps {
        if cursor + batchSize > order.count { rng.shuffle(&order); cursor = 0 }
        let batch = Array(order[cursor..<(cursor + batchSize)])
        cursor += batchSize
        let loss = Tensor.softmaxCrossEntropy(logits: model(data.points.indexSelect(batch, along: 0)),
                                              labels: batch.map { data.labels[$0] })
        try chapter.requireFinite(loss.item, "the training loss", step: step)
        loss.backward()
        sgdStep(model.parameters, velocities: velocities, learningRate: learningRate, momentum: momentum)
        losses.append(Double(loss.item))
        progress.update(step: step, ["loss": loss.item])
    }
    return losses
}

func trainTwoMoons(_ chapter: Chapter, _ config: MoonsConfig) throws {
    chapter.section("4. Training an MLP on two moons")
    let (steps, batchSize, learningRate, hidden) = (config.steps, config.batchSize, config.learningRate, config.hidden)
    chapter.say("""
        Two interleaving half circles cannot be separated by a line. A network 2 -> \(hidden) -> \(hidden) -> 2 with \
        ReLU can bend its boundary around them. We train it with softmax cross-entropy and SGD with momentum \
        \(config.momentum) (learning rate \(learningRate), batches of \(batchSize), \(steps) steps) on \(config.points) noisy \
        points and measure accuracy on \(config.points) fresh ones.
        """)
    var rng = RandomGenerator(seed: chapter.options.seed)
    let trainSet = makeMoons(count: config.points, noise: config.noise, using: &rng)
    let testSet = makeMoons(count: config.points, noise: config.noise, using: &rng)
    let model = MLP(sizes: [2, hidden, hidden, 2], using: &rng)
    let losses = try train(model, on: trainSet, steps: steps, batchSize: batchSize, learningRate: learningRate, momentum: config.momentum,
                           chapter, using: &rng)
    // The baseline: the same training of a linear classifier (no hidden layer), whose boundary is a line.
    let linear = MLP(sizes: [2, 2], using: &rng)
    _ = try train(linear, on: trainSet, steps: steps, batchSize: batchSize, learningRate: learningRate, momentum: config.momentum,
                  chapter, using: &rng)
    let linearAccuracy = accuracy(linear, testSet.points, testSet.labels)
    let trainAccuracy = accuracy(model, trainSet.points, trainSet.labels), testAccuracy = accuracy(model, testSet.points, testSet.labels)
    let early = losses.prefix(20).reduce(0, +) / 20, late = losses.suffix(50).reduce(0, +) / 50
    print(String(format: "  loss %.3f (first 20 steps) -> %.3f (last 50); accuracy train %.1f%%, test %.1f%%",
                 early, late, 100 * trainAccuracy, 100 * testAccuracy))
    print(String(format: "  a linear classifier trained the same way: test accuracy %.1f%%", 100 * linearAccuracy))
    if config.hasDefaultModel {  // the claims are about the default setting; the exercises change it
        chapter.check(late < early / 4, String(format: "the loss falls by more than 4x (%.3f -> %.3f)", early, late))
        chapter.check(testAccuracy > 0.95, String(format: "the MLP's test accuracy is above 95%% (%.1f%%)", 100 * testAccuracy))
        chapter.check(testAccuracy > linearAccuracy + 0.05,
                      String(format: "the MLP beats the best line by more than 5 points (%.1f%% vs %.1f%%)", 100 * testAccuracy, 100 * linearAccuracy))
    }

    chapter.figure("02-loss.png") { path throws(PlotError) in
        var figure = Figure(title: "Two moons: training loss (batch \(batchSize))", xLabel: "step", yLabel: "cross-entropy")
        let steps = losses.indices.map { Double($0 + 1) }
        figure.add(.line(x: steps, y: losses, title: "loss of each batch", width: 1))
        // The mean of the last 50 batches: the trend under the batch-to-batch noise.
        let smoothed = losses.indices.map { i in losses[max(0, i - 49)...i].reduce(0, +) / Double(i - max(0, i - 49) + 1) }
        figure.add(.line(x: steps, y: smoothed, title: "mean of the last 50", width: 3))
        figure.logScaleY = true
        try figure.render(to: path)
    }
    chapter.figure("02-decision-boundary.png") { path throws(PlotError) in
        // P(class 1) on a grid, with the test points on top.
        let (lowX, highX, lowY, highY, n) = (-1.5, 2.5, -1.0, 1.5, 120)
        var grid: [Float] = []
        for r in 0..<n { for c in 0..<n {
            grid += [Float(lowX + (highX - lowX) * Double(c) / Double(n - 1)), Float(lowY + (highY - lowY) * Double(r) / Double(n - 1))]
        } }
        let probability = Tensor.withoutGradients { model(Tensor(shape: [n * n, 2], grid)).softmax() }.scalars
        let values = (0..<n).map { r in (0..<n).map { c in Double(probability[2 * (r * n + c) + 1]) } }
        var figure = Figure(title: String(format: "Two moons: P(class 1) and test points (test accuracy %.1f%%)", 100 * testAccuracy),
                            xLabel: "x1", yLabel: "x2")
        figure.add(.heatmap(values: values, xRange: lowX...highX, yRange: lowY...highY))
        let p = testSet.points.scalars
        for label in 0...1 {
            let rows = testSet.labels.indices.filter { testSet.labels[$0] == label }
            figure.add(.points(x: rows.map { Double(p[2 * $0]) }, y: rows.map { Double(p[2 * $0 + 1]) },
                               title: "class \(label)", color: label == 0 ? 2 : 6, size: 0.5))
        }
        figure.xRange = lowX...highX
        figure.yRange = lowY...highY
        figure.width = 800
        figure.height = 560
        try figure.render(to: path)
    }
}
