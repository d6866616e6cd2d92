// Chapter 08: what each modality gives the ablation runs. Images: MNIST, pretrained on the first training images,
// scored on the last ones (validation) and on the test images. Speech: FSDD's spoken digits, pretrained on takes
// 10-49 of every speaker, scored on takes 5-9 (validation) and on takes 0-4 (FSDD's test set). In both, the labelled
// draws come from the pretraining examples and are the same for every arm.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN

/// Per draw of the labelled examples: the linear probe's and the k-NN vote's accuracy on each split.
struct ArmScores {
    var validationProbe: [Float] = [], validationNeighbours: [Float] = []
    var testProbe: [Float] = [], testNeighbours: [Float] = []
}

/// The words a modality's prose uses.
struct ModalityWords {
    /// "patch" / "frame", "patches" / "frames".
    var unit: String, units: String
    /// "image" / "clip", and "images" / "clips" for the splits.
    var example: String, examples: String
    /// What the summary says was pretrained on: "digits" / "clips".
    var pretrainedOn: String
    /// How the labelled examples are counted: "100 labels" / "5 labelled clips per digit".
    var labels: String
    /// The figures' file name prefix: "08-" / "08-speech-".
    var figurePrefix: String
    /// How a window of radius r looks (section 1).
    var window: String
}

/// What the runs read from a modality: the pretraining examples, their batches, and the frozen backbone's scores.
/// Everything here is read-only, so runs on several cores share it.
struct AblationData<FrontEnd: ConfiguredFrontEnd> where FrontEnd.Configuration: Equatable {
    var words: ModalityWords
    var pretrainingCount: Int, validationCount: Int, testCount: Int
    /// A fresh, endless source of batches of pretraining indices of `size` (one per run).
    var batches: (_ size: Int) -> (inout RandomGenerator) -> [Int]
    /// The batch of the pretraining examples at `indices` (random crops draw from the generator).
    var batch: (_ indices: [Int], _ rng: inout RandomGenerator) -> FrontEnd.Batch
    /// The frozen backbone read by both probes on every draw, on the validation and the test examples.
    var score: (Backbone<FrontEnd>) -> ArmScores
}

extension AblationData where FrontEnd == ImagePatchFrontEnd {
    /// MNIST: the first training images pretrain and give the labelled draws, the last `validationImages` validate.
    static func images(_ config: AblationConfig, directory: URL, quick: Bool, seed: UInt64) throws -> AblationData {
        var train = try MNIST(directory: directory, split: .train)
        var test = try MNIST(directory: directory, split: .test)
        if quick { (train, test) = (train.subset(Array(0..<1300)), test.subset(Array(0..<500))) }
        guard train.count > config.validationImages + config.labelCount else {
            throw ChapterError("\(directory.path)/vision has \(train.count) training images; the chapter needs more than \(config.validationImages) "
                               + "for validation plus the pretraining images. Give a --data-dir with the full MNIST subset (data/README.md).")
        }
        let cut = train.count - config.validationImages
        let pretraining = train.subset(Array(0..<cut)), validation = train.subset(Array(cut..<train.count))
        let draws = try FewLabelProtocol(labels: pretraining.labels, classCount: 10, counts: [config.labelCount], seeds: config.evaluationSeeds,
                                         seed: seed.derived("ablation draws"))
        let words = ModalityWords(unit: "patch", units: "patches", example: "image", examples: "images", pretrainedOn: "digits", labels: "\(config.labelCount) labels",
                                  figurePrefix: "08-", window: "a patch attends only to the patches within r rows and r columns of it, a (2r + 1) x (2r + 1) square")
        return AblationData(
            words: words, pretrainingCount: pretraining.count, validationCount: validation.count, testCount: test.count,
            batches: { size in
                var batches = ShuffledBatches(Array(0..<pretraining.count), size: size)
                return { rng in batches.next(using: &rng) }
            },
            batch: { indices, _ in pretraining.batch(indices).images },
            score: { backbone in
                // The last block (before the final LayerNorm, as BEiT's mean pooling reads it), averaged over the patches,
                // standardized with the pretraining images' statistics; the probe and DINO's weighted k-NN vote.
                backbone.eval()
                let raw = [pretraining, validation, test].map { images in
                    Tensor.withoutGradients {
                        Tensor.concatenate(stride(from: 0, to: images.count, by: 500).map { start in
                            let batch = images.batch(Array(start..<min(start + 500, images.count))).images
                            return backbone.encode(batch).output.lastBlockOutput.mean(alongAxes: [1])
                        }, along: 0)
                    }
                }
                let standardize = FeatureStandardizer(fitting: raw[0])
                let (trainFeatures, validationFeatures, testFeatures) = (standardize(raw[0]), standardize(raw[1]), standardize(raw[2]))
                var scores = ArmScores()
                for draw in 0..<config.evaluationSeeds {
                    let labelled = draws.subset(config.labelCount, seed: draw)
                    let x = trainFeatures.indexSelect(labelled, along: 0), labels = labelled.map { pretraining.labels[$0] }
                    let probe = LogisticRegression(features: x, labels: labels, classCount: 10, inverseRegularization: config.logisticC)
                    let knn = NearestNeighbourClassifier(features: x, labels: labels, classCount: 10, k: min(config.neighbours, labelled.count),
                                                         vote: .weighted(temperature: config.neighbourTemperature))
                    scores.validationProbe.append(probe.accuracy(validationFeatures, labels: validation.labels))
                    scores.validationNeighbours.append(knn.accuracy(validationFeatures, labels: validation.labels))
                    scores.testProbe.append(probe.accuracy(testFeatures, labels: test.labels))
                    scores.testNeighbours.append(knn.accuracy(testFeatures, labels: test.labels))
                }
                return scores
            })
    }
}

extension AblationData where FrontEnd == SpeechFrontEnd {
    /// FSDD: takes 10-49 of every speaker pretrain and give the labelled draws, takes 5-9 validate, takes 0-4 test.
    static func clips(_ config: SpeechAblationConfig, directory: URL, quick: Bool, seed: UInt64) throws -> AblationData {
        let digits = try SpokenDigits(directory: directory)
        let shortest = config.recipe.frontEnd.receptiveField
        var usable = digits.clips.indices.filter { digits.clips[$0].count >= shortest }
        if quick { usable = usable.filter { digits.takes[$0] % 5 == 0 || digits.takes[$0] < 10 } }
        let pretraining = usable.filter { digits.takes[$0] >= 10 }
        let validation = usable.filter { (5..<10).contains(digits.takes[$0]) }, test = usable.filter { digits.takes[$0] < 5 }
        guard !pretraining.isEmpty, !validation.isEmpty, !test.isEmpty else {
            throw ChapterError("\(directory.path)/speech: the split by take is empty (\(pretraining.count) pretraining, \(validation.count) validation, "
                               + "\(test.count) test clips); the chapter needs FSDD's takes 0-49 (data/README.md)")
        }
        let labels = pretraining.map { digits.digits[$0] }
        let draws = try FewLabelProtocol(labels: labels, classCount: 10, counts: [10 * config.labelsPerDigit], seeds: config.evaluationSeeds,
                                         seed: seed.derived("ablation draws"))
        let words = ModalityWords(unit: "frame", units: "frames", example: "clip", examples: "clips", pretrainedOn: "clips",
                                  labels: "\(config.labelsPerDigit) labelled clips per digit", figurePrefix: "08-speech-",
                                  window: "a frame attends only to the frames within r steps of it, a window of 2r + 1 frames of 10 ms")
        let view = config.probeBlock - 1
        return AblationData(
            words: words, pretrainingCount: pretraining.count, validationCount: validation.count, testCount: test.count,
            batches: { size in
                var pending: [[Int]] = []
                return { rng in
                    if pending.isEmpty {
                        pending = lengthBucketedBatches(Array(0..<pretraining.count), lengths: { min(digits.clips[pretraining[$0]].count, config.maximumSamples) },
                                                        size: size, using: &rng)
                    }
                    return pending.removeLast()
                }
            },
            batch: { indices, rng in digits.batch(indices.map { pretraining[$0] }, maxLength: config.maximumSamples, using: &rng) },
            score: { backbone in
                // Chapter 06's view: one block's output, its mean and standard deviation over each clip's frames, standardized
                // with the pretraining clips' statistics; logistic regression and the nearest neighbour (`ViewProbes`).
                backbone.eval()
                func pooled(_ clips: [Int]) -> Tensor {
                    var rng = RandomGenerator(seed: 0)  // the batches' order only: a clip's features do not depend on its batch
                    let batches = lengthBucketedBatches(Array(clips.indices), lengths: { digits.clips[clips[$0]].count }, size: 64, using: &rng)
                    var rows = [Tensor?](repeating: nil, count: clips.count)
                    for batch in batches {
                        Tensor.withoutGradients {
                            let (encoded, lengths) = backbone.encode(digits.batch(batch.map { clips[$0] }, using: &rng), frozenCNN: false, recordBlocks: true)
                            let features = meanAndDeviationOverTime(encoded.blocks[view].output, lengths: lengths)
                            for (k, position) in batch.enumerated() { rows[position] = features.sliced(k..<(k + 1), along: 0) }
                        }
                    }
                    return Tensor.concatenate(rows.map { $0! }, along: 0)
                }
                let train = pooled(pretraining)
                var scores = ArmScores()
                for (split, clips) in [(0, validation), (1, test)] {
                    let probes = ViewProbes(draws: draws, trainLabels: labels, testLabels: clips.map { digits.digits[$0] }, classCount: 10,
                                            inverseRegularization: config.logisticC)
                    let (nearest, logistic) = probes.scores(FeatureViews(train: [train], test: [pooled(clips)]), view: 0)
                    let count = 10 * config.labelsPerDigit
                    let probe = (0..<config.evaluationSeeds).map { logistic.scores[count]![$0] }
                    let knn = (0..<config.evaluationSeeds).map { nearest.scores[count]![$0] }
                    if split == 0 { (scores.validationProbe, scores.validationNeighbours) = (probe, knn) } else { (scores.testProbe, scores.testNeighbours) = (probe, knn) }
                }
                return scores
            })
    }
}
