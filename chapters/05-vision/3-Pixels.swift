// Chapter 05, section 3: what a skeptic tries first. Before any network: nearest neighbours and logistic
// regression on the raw pixels, with the same labelled images every later method gets.
import Autograd
import ChapterKit
import Datasets
import Evaluation
import Foundation

/// The data and the few-label protocol every method of sections 3-6 shares.
struct EvaluationSetup {
    var train: MNIST, test: MNIST
    /// Label counts x evaluation seeds -> the labelled training images (identical for every method).
    var draws: FewLabelProtocol
    /// The counts that are at most the training set (10,000 with the full data).
    var counts: [Int] { draws.counts }

    init(_ config: VisionConfig, train: MNIST, test: MNIST, seed: UInt64) throws {
        (self.train, self.test) = (train, test)
        let counts = config.labelCounts.filter { $0 <= train.count }
        draws = try FewLabelProtocol(labels: train.labels, classCount: 10, counts: counts, seeds: config.evaluationSeeds, seed: seed)
    }

    /// Evaluation seeds at `count` labels: one when the count takes every training image (every draw is the same set).
    func seeds(_ count: Int) -> Int { count >= train.count ? 1 : draws.seeds }

    /// The labelled images of one draw.
    func subset(_ count: Int, seed: Int) -> [Int] { draws.subset(count, seed: seed) }

    /// The shifted copies of one draw's labelled images that the methods which train once (the references, the
    /// frozen probes) see beside them: `copies` per image, [L copies, 28, 28], and their labels. The same for
    /// every method: the shifts are drawn from the draw's own seed.
    func shiftedCopies(_ count: Int, seed: Int, _ config: VisionConfig) -> (images: Tensor, labels: [Int])? {
        guard config.maximumShift > 0, config.shiftedCopies > 0, count < train.count else { return nil }  // not when every image is labelled
        var rng = RandomGenerator(seed: draws.seed.derived("shifted copies \(count)", seed))
        let repeated = subset(count, seed: seed).flatMap { [Int](repeating: $0, count: config.shiftedCopies) }
        return train.shiftedBatch(repeated, maxShift: config.maximumShift, using: &rng)
    }
}

/// The three references on pixels, each scored over the protocol.
struct PixelReferences {
    var nearest: [ProtocolScores]  // one per k
    var logistic: ProtocolScores
    var all: [ProtocolScores] { nearest + [logistic] }
    /// The same, as rows of the later sections' tables.
    var seeded: [SeededScores] { all.map { SeededScores(name: $0.name, runs: [$0]) } }
    /// The best reference at `count` (the highest mean over the draws), and its name.
    func best(_ count: Int) -> (name: String, mean: Float)? {
        all.compactMap { p in p.statistics(count).map { (p.name, $0.mean) } }.max { $0.mean < $1.mean }
    }
}

extension Chapter05 {
    func pixelReferences(_ chapter: Chapter, _ config: VisionConfig, _ setup: EvaluationSetup) -> PixelReferences {
        chapter.section("3. What a skeptic tries first: the pixels")
        if config.maximumShift > 0 {
            chapter.say("""
                Every method of sections 3-6 gets the same light augmentation: its labelled images moved by up to \
                \(config.maximumShift) pixels across and down (a digit a pixel or two off centre is the same digit). \
                Networks trained on them draw a new shift for every image of every batch; the methods that fit \
                once (these references and the frozen probes) see \(config.shiftedCopies) shifted copies of each \
                labelled image beside it, the same copies for all of them (with every training image labelled, \
                no copies: that row is the plain data set).
                """)
        }
        chapter.say("""
            Before any network, the references a skeptic tries first, on the raw 784 pixels of the same labelled \
            images every later method gets (\(setup.counts.map(String.init).joined(separator: ", ")) labels, \
            \(config.evaluationSeeds) draws each, class-balanced): k-nearest neighbours by cosine similarity \
            (the 1 nearest; and DINO's vote of the 20 nearest, each weighted exp(similarity / \
            \(config.neighbourTemperature))), and logistic regression, solved to its optimum (L-BFGS, \
            C = \(config.logisticC), scikit-learn's default; Sources/Evaluation). The pixels are as stored, 0 to 1: \
            standardizing each pixel, as the networks' features are below, scored lower on training images held \
            out as validation (docs/deviations.md). None of them \
            has anything to tune on held-out data. MNIST digits that look alike are mostly the same digit, so these \
            are strong when labels are few: pretraining has to beat them to be worth its compute.
            """)
        // The pixels as they are stored, 0 (background) to 1 (ink): the data set standardizes them for the networks.
        func pixels(_ data: MNIST) -> Tensor {
            data.batch(Array(0..<data.count)).images.reshaped([data.count, 784]) * MNIST.std + MNIST.mean
        }
        let (trainPixels, testPixels) = (pixels(setup.train), pixels(setup.test))
        var result = PixelReferences(nearest: config.neighbourCounts.map { ProtocolScores("pixels, \($0)-NN") },
                                     logistic: ProtocolScores("pixels, logistic regression"))
        let (_, seconds) = measure {
            for count in setup.counts {
                // One job per draw, side by side on the cores.
                let scores = Array(0..<setup.seeds(count)).mapSideBySide { seed -> [Float] in
                    let labelled = setup.subset(count, seed: seed)
                    var features = trainPixels.indexSelect(labelled, along: 0), labels = labelled.map { setup.train.labels[$0] }
                    if let copies = setup.shiftedCopies(count, seed: seed, config) {
                        features = Tensor.concatenate([features, copies.images.reshaped([copies.labels.count, 784]) * MNIST.std + MNIST.mean], along: 0)
                        labels += copies.labels
                    }
                    let nearest = config.neighbourCounts.map { k in
                        NearestNeighbourClassifier(features: features, labels: labels, classCount: 10, k: k, vote: vote(config, k: k))
                            .accuracy(testPixels, labels: setup.test.labels)
                    }
                    let logistic = LogisticRegression(features: features, labels: labels, classCount: 10, inverseRegularization: config.logisticC)
                    return nearest + [logistic.accuracy(testPixels, labels: setup.test.labels)]
                }
                for (seed, row) in scores.enumerated() {
                    let subset = setup.subset(count, seed: seed)
                    for i in config.neighbourCounts.indices { result.nearest[i].record(row[i], count: count, seed: seed, subset: subset) }
                    result.logistic.record(row.last!, count: count, seed: seed, subset: subset)
                }
            }
        }
        printTable(setup, result.all)
        print("  (pixel references: \(formatDuration(seconds)))")
        return result
    }

    /// 1-NN votes once; a larger k uses DINO's weighted vote.
    func vote(_ config: VisionConfig, k: Int) -> NearestNeighbourClassifier.Vote {
        k == 1 ? .majority : .weighted(temperature: config.neighbourTemperature)
    }

    /// One row per method: mean and range over the draws at every count.
    func printTable(_ setup: EvaluationSetup, _ methods: [ProtocolScores], width: Int = 44) {
        print("  " + "labels:".padding(toLength: width, withPad: " ", startingAt: 0)
              + setup.counts.map { String(format: "%18d", $0) }.joined())
        for method in methods {
            print("  " + method.name.padding(toLength: width, withPad: " ", startingAt: 0)
                  + setup.counts.map { cell(method.statistics($0)) }.joined())
        }
    }

    /// "  70.6 (68.9-72.0)" in 18 columns: mean and range over the seeds, in percent.
    func cell(_ statistics: SeedStatistics?) -> String {
        guard let s = statistics, !s.values.isEmpty else { return String(repeating: " ", count: 17) + "-" }
        let text = s.values.count == 1 ? String(format: "%.1f", 100 * s.mean)
                                       : String(format: "%.1f (%.1f-%.1f)", 100 * s.mean, 100 * s.values.min()!, 100 * s.values.max()!)
        return String(repeating: " ", count: max(1, 18 - text.count)) + text
    }
}
