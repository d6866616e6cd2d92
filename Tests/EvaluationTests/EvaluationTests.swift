// The Evaluation module: batches, labelled subsets, accuracy, seed statistics, the linear probe and
// supervised training with early stopping.
import Testing
import Autograd
import NN
import Optim
@testable import Evaluation

@Suite("Evaluation")
struct EvaluationTests {
    @Test func shuffledBatchesVisitEveryIndexOncePerEpoch() {
        var rng = RandomGenerator(seed: 1)
        var batches = ShuffledBatches(Array(0..<12), size: 4)
        var seen: [Int] = []
        for _ in 0..<3 { seen += batches.next(using: &rng) }
        #expect(seen.sorted() == Array(0..<12))
        #expect(batches.epoch == 1)
        _ = batches.next(using: &rng)
        #expect(batches.epoch == 2)
        #expect(chunks(Array(0..<7), size: 3) == [[0, 1, 2], [3, 4, 5], [6]])
    }

    @Test func lengthBucketedBatchesHoldNeighboursInLength() {
        var rng = RandomGenerator(seed: 1)
        let lengths = (0..<100).map { ($0 * 37) % 100 }  // a permutation of 0..<100
        let batches = lengthBucketedBatches(Array(0..<100), lengths: { lengths[$0] }, size: 10, using: &rng)
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<100))
        #expect(batches.allSatisfy { batch in (batch.map { lengths[$0] }.max()! - batch.map { lengths[$0] }.min()!) < 10 })
    }

    @Test func balancedSubsetsAreBalancedAndRefuseTooMany() throws {
        let labels = (0..<300).map { $0 % 3 == 0 ? 0 : ($0 % 3 == 1 ? 1 : 2) }
        var rng = RandomGenerator(seed: 2)
        let subset = try balancedSubset(labels: labels, classCount: 3, count: 30, using: &rng)
        #expect(Set(subset).count == 30)
        #expect((0..<3).map { c in subset.filter { labels[$0] == c }.count } == [10, 10, 10])
        // More labels than examples used to loop forever (issue: hang on a tiny training set).
        #expect(throws: EvaluationError.notEnoughExamples(asked: 301, available: 300)) {
            try balancedSubset(labels: labels, classCount: 3, count: 301, using: &rng)
        }
        // A class that runs out: the others fill the rest.
        let skewed = [0, 0, 0, 0, 1]
        #expect(try balancedSubset(labels: skewed, classCount: 2, count: 5, using: &rng).sorted() == [0, 1, 2, 3, 4])
    }

    @Test func validationSplitIsStratifiedAndSkippedWhenTooSmall() {
        var rng = RandomGenerator(seed: 3)
        let labels = (0..<100).map { $0 % 10 }
        let (train, validation) = validationSplit(Array(0..<100), labels: labels, fraction: 0.2, minimumExamples: 50, using: &rng)
        #expect(train.count == 80 && validation.count == 20)
        #expect(Set(train).isDisjoint(with: validation))
        #expect((0..<10).allSatisfy { c in validation.filter { labels[$0] == c }.count == 2 })
        let small = validationSplit(Array(0..<10), labels: labels, fraction: 0.2, minimumExamples: 50, using: &rng)
        #expect(small.train.count == 10 && small.validation.isEmpty)
    }

    @Test func accuracyCountsTheArgmax() {
        // Rows' largest entries are at 2, 0, 1; labels 2, 1, 1: two of three right.
        let logits = Tensor(shape: [3, 3], [0, 1, 5, 3, 2, 1, 0, 9, 1])
        #expect(accuracy(logits: logits, labels: [2, 1, 1]) == Float(2) / 3)
    }

    @Test func seedStatisticsReportMeanAndHalfRange() {
        let s = SeedStatistics([0.478, 0.512, 0.512])
        #expect(abs(s.mean - 0.5007) < 1e-4)
        #expect(abs(s.halfRange - 0.017) < 1e-6)
        #expect(s.summary() == "50.1% +- 1.7 (3 seeds)")
        #expect(SeedStatistics([0.9714]).summary() == "97.1%")
        #expect(s.listed() == "47.8, 51.2, 51.2")
    }

    /// Two Gaussian blobs in 8-D, 100 points each.
    func blobs(seed: UInt64) -> (features: Tensor, labels: [Int]) {
        var rng = RandomGenerator(seed: seed)
        var values: [Float] = [], labels: [Int] = []
        for i in 0..<200 {
            let label = i % 2
            labels.append(label)
            for j in 0..<8 { values.append(rng.normal() + (j == 0 ? (label == 0 ? -2 : 2) : 0)) }
        }
        return (Tensor(shape: [200, 8], values), labels)
    }

    @Test func aLinearProbeSeparatesSeparableData() {
        let train = blobs(seed: 4), test = blobs(seed: 5)
        let probe = LinearProbe.accuracy(trainFeatures: train.features, trainLabels: train.labels, labelled: Array(0..<200),
                                         testFeatures: test.features, testLabels: test.labels, classCount: 2, seed: 0)
        #expect(probe > 0.95)
    }

    @Test func earlyStoppingKeepsTheBestParametersAndStops() {
        let data = blobs(seed: 6)
        var rng = RandomGenerator(seed: 7)
        let model = LinearProbe(featureCount: 8, classCount: 2, normalize: false, using: &rng)
        var scores: [Float] = [], snapshots: [[Float]] = []
        // The score rises for three validations, then falls: training must stop after `patience` more and
        // restore the parameters of the third.
        let report = trainWithEarlyStopping(
            model, optimization: AdamWConfiguration(peakLearningRate: 1e-2), examples: Array(0..<200), labels: data.labels,
            budget: TrainingBudget(maximumEpochs: 100, batchSize: 32, patience: 2), seed: 0,
            loss: { batch in Loss.crossEntropy(logits: model(data.features.indexSelect(batch, along: 0)), labels: batch.map { data.labels[$0] }) },
            score: { _ in
                let value: Float = scores.count < 3 ? Float(scores.count) : Float(2 - scores.count)
                scores.append(value)
                snapshots.append(model.linear.weight.scalars)
                return value
            })
        #expect(report.stoppedEarly && scores.count == 5)
        #expect(report.bestValidationScore == 2 && report.validationExamples == 40 && report.trainingExamples == 160)
        #expect(report.bestStep == 3 * 5)  // 160 / 32 = 5 steps per epoch, validated once per epoch
        #expect(model.linear.weight.scalars == snapshots[2] && snapshots[2] != snapshots[4])
        #expect(!model.isTraining)
        // A cap on the held-out examples: 10 of 200 instead of 40, the rest train.
        let capped = trainWithEarlyStopping(
            model, optimization: AdamWConfiguration(peakLearningRate: 1e-2), examples: Array(0..<200), labels: data.labels,
            budget: TrainingBudget(maximumEpochs: 1, batchSize: 32, maximumValidationExamples: 10), seed: 0,
            loss: { batch in Loss.crossEntropy(logits: model(data.features.indexSelect(batch, along: 0)), labels: batch.map { data.labels[$0] }) },
            score: { _ in 0 })
        #expect(capped.validationExamples == 10 && capped.trainingExamples == 190)
    }
}
