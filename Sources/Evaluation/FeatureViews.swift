// Frozen features seen several ways, and the few-label protocol's two probes on any of them. An encoder gives one
// pooled vector per example and block; a view is one block, an average of them, or all side by side, and SUPERB's
// learned weighted sum of the blocks (Yang et al., 2021) is one more view, whose block weights are fitted with its
// probe. Every view is standardized with the training examples' statistics (no labels used), then read by the
// nearest neighbour (cosine) and by logistic regression solved to its optimum, on the same labelled draws.
import Autograd

/// Several views of the same examples' features: one [N, F] tensor per view for the training examples and one
/// [M, F] for the test examples, standardized with the training examples' statistics.
public struct FeatureViews {
    /// Per view, the training and the test examples' features, standardized.
    public let train: [Tensor], test: [Tensor]
    /// The first `blocks` views are an encoder's blocks (all [*, F] with the same F), which `weightedSumView` mixes.
    public let blocks: Int

    /// Standardizes each view with its training examples' mean and standard deviation.
    public init(train: [Tensor], test: [Tensor], blocks: Int = 0) {
        require(train.count == test.count && blocks <= train.count, "FeatureViews: \(train.count) training and \(test.count) test views, \(blocks) blocks")
        let scalers = train.map { FeatureStandardizer(fitting: $0) }
        self.train = zip(scalers, train).map { $0($1) }
        self.test = zip(scalers, test).map { $0($1) }
        self.blocks = blocks
    }

    /// The index that stands for SUPERB's learned weighted sum of the blocks: one past the last tensor.
    public var weightedSumView: Int { train.count }
}

/// The few-label protocol's probes: per labelled count and draw, 1-NN and logistic regression fitted on the
/// labelled training examples of a view and scored on every test example.
public struct ViewProbes: Sendable {
    /// The labelled draws (`FewLabelProtocol`), and the labels of every training and test example.
    public let draws: FewLabelProtocol
    public let trainLabels: [Int], testLabels: [Int]
    /// The number of classes, and logistic regression's C (scikit-learn's: 1).
    public let classCount: Int
    public let inverseRegularization: Double

    /// Probes over `draws`.
    public init(draws: FewLabelProtocol, trainLabels: [Int], testLabels: [Int], classCount: Int, inverseRegularization: Double = 1) {
        self.draws = draws
        self.trainLabels = trainLabels
        self.testLabels = testLabels
        self.classCount = classCount
        self.inverseRegularization = inverseRegularization
    }

    /// 1-NN and logistic regression on one view, at every count (or `only` these) and draw. At `weightedSumView`,
    /// logistic regression is fitted together with the block weights (`WeightedBlockRegression`), and the nearest
    /// neighbour reads the blocks mixed with those weights.
    public func scores(_ views: FeatureViews, view: Int, counts only: [Int]? = nil) -> (nearest: ProtocolScores, logistic: ProtocolScores) {
        var nearest = ProtocolScores("1-NN"), logistic = ProtocolScores("logistic")
        for count in only ?? draws.counts {
            for seed in 0..<draws.seeds {
                let labelled = draws.subset(count, seed: seed), labels = labelled.map { trainLabels[$0] }
                let (train, test): (Tensor, Tensor)
                if view == views.weightedSumView {
                    let blocks = views.train.prefix(views.blocks).map { $0.indexSelect(labelled, along: 0) }, testBlocks = Array(views.test.prefix(views.blocks))
                    let probe = WeightedBlockRegression(blocks: blocks, labels: labels, classCount: classCount, inverseRegularization: inverseRegularization)
                    logistic.record(probe.accuracy(testBlocks, labels: testLabels), count: count, seed: seed, subset: labelled)
                    let mix = { (parts: [Tensor]) in zip(probe.blockWeights, parts).map { Float($0) * $1 }.dropFirst().reduce(Float(probe.blockWeights[0]) * parts[0], +) }
                    (train, test) = (mix(blocks), mix(testBlocks))
                } else {
                    (train, test) = (views.train[view].indexSelect(labelled, along: 0), views.test[view])
                    let probe = LogisticRegression(features: train, labels: labels, classCount: classCount, inverseRegularization: inverseRegularization)
                    logistic.record(probe.accuracy(test, labels: testLabels), count: count, seed: seed, subset: labelled)
                }
                let knn = NearestNeighbourClassifier(features: train, labels: labels, classCount: classCount, k: 1)
                nearest.record(knn.accuracy(test, labels: testLabels), count: count, seed: seed, subset: labelled)
            }
        }
        return (nearest, logistic)
    }
}
