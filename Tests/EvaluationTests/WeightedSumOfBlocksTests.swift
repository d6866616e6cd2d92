// SUPERB's learned weighted sum of blocks with a logistic head (Evaluation/WeightedSumOfBlocks.swift).
import Autograd
@testable import Evaluation
import Testing

@Suite("Weighted sum of blocks")
struct WeightedSumOfBlocksTests {
    /// Two classes of 2-D points: class c near (2c - 1, 0) in an informative block; a block of noise.
    static func data(count: Int, seed: UInt64) -> (informative: Tensor, noise: Tensor, labels: [Int]) {
        var rng = RandomGenerator(seed: seed)
        let labels = (0..<count).map { $0 % 2 }
        var points: [Float] = []
        for label in labels {
            let centre = Float(2 * label - 1)
            points += [centre + 0.5 * Float(rng.normal()), 0.5 * Float(rng.normal())]
        }
        let informative = Tensor(shape: [count, 2], points)
        let noise = Tensor(shape: [count, 2], (0..<(2 * count)).map { _ in Float(rng.normal()) })
        return (informative, noise, labels)
    }

    /// With one block the weight is 1 and the problem is `LogisticRegression`'s: the same predictions.
    @Test func oneBlockIsLogisticRegression() {
        let (x, _, labels) = WeightedSumOfBlocksTests.data(count: 40, seed: 1)
        let weighted = WeightedBlockRegression(blocks: [x], labels: labels, classCount: 2)
        let plain = LogisticRegression(features: x, labels: labels, classCount: 2)
        #expect(weighted.blockWeights == [1])
        let test = WeightedSumOfBlocksTests.data(count: 200, seed: 2)
        #expect(weighted.predict([test.informative]) == plain.predict(test.informative))
        for (a, b) in zip(weighted.weights, plain.weights) { #expect(abs(a - b) < 1e-4) }
    }

    /// The learned weights move to the block that carries the labels, away from the block of noise, and the
    /// weighted probe reads held-out points as well as a probe told which block to read.
    @Test func weightsFindTheInformativeBlock() {
        let train = WeightedSumOfBlocksTests.data(count: 60, seed: 3), test = WeightedSumOfBlocksTests.data(count: 400, seed: 4)
        let model = WeightedBlockRegression(blocks: [train.noise, train.informative], labels: train.labels, classCount: 2)
        #expect(model.converged)
        #expect(model.blockWeights[1] > 0.8, "weights \(model.blockWeights)")
        let told = LogisticRegression(features: train.informative, labels: train.labels, classCount: 2)
        let accuracy = model.accuracy([test.noise, test.informative], labels: test.labels)
        #expect(accuracy >= told.accuracy(test.informative, labels: test.labels) - 0.03 && accuracy > 0.9, "accuracy \(accuracy)")
    }
}

extension WeightedSumOfBlocksTests {
    /// The objective's gradient (block weights through the softmax included) against central differences.
    @Test func gradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 5)
        let (l, n, f, k) = (3, 7, 4, 3)
        let blocks = (0..<l).map { _ in (0..<(n * f)).map { _ in Double(rng.normal()) } }
        let labels = (0..<n).map { $0 % k }
        let theta = (0..<(k * f + k + l)).map { _ in 0.5 * Double(rng.normal()) }
        let (_, gradient) = WeightedBlockRegression.objective(theta, blocks: blocks, labels: labels, featureCount: f, classCount: k, inverseRegularization: 0.7)
        let h = 1e-6
        for j in theta.indices {
            var plus = theta, minus = theta
            plus[j] += h
            minus[j] -= h
            let up = WeightedBlockRegression.objective(plus, blocks: blocks, labels: labels, featureCount: f, classCount: k, inverseRegularization: 0.7).value
            let down = WeightedBlockRegression.objective(minus, blocks: blocks, labels: labels, featureCount: f, classCount: k, inverseRegularization: 0.7).value
            #expect(abs((up - down) / (2 * h) - gradient[j]) < 1e-6, "parameter \(j)")
        }
    }
}

extension WeightedSumOfBlocksTests {
    /// `ViewProbes` scores a view exactly as the probes fitted by hand on each draw's standardized features, and its
    /// weighted-sum view (one past the last tensor) reads the informative block through the noise.
    @Test func viewProbesAreTheProbesOnEachDraw() throws {
        let train = WeightedSumOfBlocksTests.data(count: 60, seed: 7), test = WeightedSumOfBlocksTests.data(count: 200, seed: 8)
        let views = FeatureViews(train: [train.noise, train.informative], test: [test.noise, test.informative], blocks: 2)
        #expect(views.weightedSumView == 2)
        let column = (0..<60).map { views.train[1][$0, 0] }
        #expect(abs(column.reduce(0, +) / 60) < 1e-5)  // standardized: mean 0 on the training examples
        let draws = try FewLabelProtocol(labels: train.labels, classCount: 2, counts: [10, 20], seeds: 2, seed: 9)
        let probes = ViewProbes(draws: draws, trainLabels: train.labels, testLabels: test.labels, classCount: 2)
        let (nearest, logistic) = probes.scores(views, view: 1)
        for count in [10, 20] {
            for seed in 0..<2 {
                let labelled = draws.subset(count, seed: seed), labels = labelled.map { train.labels[$0] }
                let x = views.train[1].indexSelect(labelled, along: 0)
                let byHand = LogisticRegression(features: x, labels: labels, classCount: 2).accuracy(views.test[1], labels: test.labels)
                let knn = NearestNeighbourClassifier(features: x, labels: labels, classCount: 2, k: 1).accuracy(views.test[1], labels: test.labels)
                #expect(logistic.scores[count]![seed] == byHand && nearest.scores[count]![seed] == knn)
            }
        }
        let weighted = probes.scores(views, view: views.weightedSumView).logistic
        #expect(weighted.statistics(20)!.mean > 0.85, "\(weighted.statistics(20)!.mean)")
    }
}
