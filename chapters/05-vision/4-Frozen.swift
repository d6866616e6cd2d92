// Chapter 05, section 4: the frozen encoders. Each encoder's features of every image are computed once; then
// k-nearest neighbours and a linear probe (logistic regression) read them with the same labelled images as the
// pixel references. Block by block, and before and after pretraining (PCA).
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Plot

/// An encoder the evaluation reads, and what it is.
struct Encoder {
    /// "random", "short run", "long run, seed 1", "seed 0 after 5000 steps".
    var name: String
    /// Pretraining steps behind it (0 for the random encoder).
    var steps: Int
    /// Where its parameters come from (nil: a random initialization from `initSeed`).
    var checkpoint: URL?
    var initSeed: UInt64

    /// A fresh copy of the backbone (each fine-tuning run trains its own).
    func backbone(_ config: VisionConfig) throws -> VisionBackbone {
        var rng = RandomGenerator(seed: initSeed)
        let backbone = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        if let checkpoint { try Checkpoint.load(checkpoint, into: backbone) }
        return backbone
    }
}

/// The encoders of sections 4-5: a random one, the chapter's short run, and the long runs (one per pretraining seed).
struct EncoderSet {
    var random: Encoder
    var short: Encoder?
    var long: [Encoder]
    var all: [Encoder] { [random] + (short.map { [$0] } ?? []) + long }
}

/// A backbone's frozen features, computed in evaluation mode: each block's output averaged over the 49 patches,
/// [N, D] per block, standardized with the training images' statistics (no labels used). The training and test
/// images' features are computed once; `features(of:)` computes those of other images (the shifted copies).
struct FrozenFeatures {
    var backbone: VisionBackbone
    var scalers: [FeatureStandardizer]
    var train: [Tensor], test: [Tensor]
    var blockCount: Int { train.count }

    init(_ backbone: VisionBackbone, train: MNIST, test: MNIST) {
        backbone.eval()
        self.backbone = backbone
        let rawTrain = FrozenFeatures.pooled(backbone, train.batch(Array(0..<train.count)).images)
        let scalers = rawTrain.map { FeatureStandardizer(fitting: $0) }
        self.scalers = scalers
        self.train = zip(scalers, rawTrain).map { $0($1) }
        self.test = zip(scalers, FrozenFeatures.pooled(backbone, test.batch(Array(0..<test.count)).images)).map { $0($1) }
    }

    /// The standardized features of `images` [N, 28, 28], one [N, D] per block.
    func features(of images: Tensor) -> [Tensor] {
        zip(scalers, FrozenFeatures.pooled(backbone, images)).map { $0($1) }
    }

    /// Each block's output averaged over the patches (not the CLS token, with --class-token), [N, D] per block, 250
    /// images at a time.
    static func pooled(_ backbone: VisionBackbone, _ images: Tensor) -> [Tensor] {
        var blocks: [[Tensor]] = Array(repeating: [], count: backbone.encoder.blocks.count)
        for start in stride(from: 0, to: images.shape[0], by: 250) {
            Tensor.withoutGradients {
                let batch = images.sliced(start..<min(start + 250, images.shape[0]), along: 0)
                let encoded = backbone.encode(batch, recordBlocks: true).output
                for (i, record) in encoded.blocks.enumerated() { blocks[i].append(backbone.dropLeadingTokens(record.output).mean(alongAxes: [1])) }
            }
        }
        return blocks.map { Tensor.concatenate($0, along: 0) }
    }
}

/// One frozen-feature method (k-NN or the probe) scored with each encoder of a kind.
struct SeededScores {
    var name: String
    /// One per encoder (per pretraining seed for the long runs).
    var runs: [ProtocolScores]

    /// Each encoder's mean over the draws at `count`.
    func runMeans(_ count: Int) -> [Float] { runs.compactMap { $0.statistics(count)?.mean } }
    /// The mean of the encoders' means.
    func mean(_ count: Int) -> Float? {
        let means = runMeans(count)
        return means.isEmpty ? nil : means.reduce(0, +) / Float(means.count)
    }
}

/// What section 4 measured.
struct FrozenResults {
    /// Per encoder kind ("random encoder", "short run", "long runs"): k-NN for each k, then the probe.
    var methods: [(kind: String, scores: [SeededScores])] = []
    /// Per block, at `blockCount` labels: the kind, the block, the k-NN (largest k) and probe means.
    var blocks: [(kind: String, block: Int, nearest: Float, probe: Float)] = []
    var blockCount = 100
    /// Every encoder's features (the compute curve reuses them).
    var features: [String: FrozenFeatures] = [:]
}

extension Chapter05 {
    func encoderSet(_ config: VisionConfig, short: URL, long: [LongRun]) throws -> EncoderSet {
        let shortSteps = try Int(Checkpoint.load(short).metadata["steps"] ?? "") ?? config.pretrainingSteps
        return EncoderSet(random: Encoder(name: "random encoder", steps: 0, checkpoint: nil, initSeed: options.seed.derived("random encoder")),
                   short: Encoder(name: "short run", steps: shortSteps, checkpoint: short, initSeed: 0),
                   long: long.map { Encoder(name: "long run, seed \($0.seed)", steps: $0.steps, checkpoint: $0.url, initSeed: 0) })
    }

    /// Scores k-NN (each k) and the probe on each of `blocks`' features over the protocol: one list of methods
    /// per block.
    func frozenScores(_ config: VisionConfig, _ setup: EvaluationSetup, _ features: FrozenFeatures, blocks: [Int], counts: [Int]) -> [[ProtocolScores]] {
        var scores = blocks.map { _ in config.neighbourCounts.map { ProtocolScores("\($0)-NN") } + [ProtocolScores("linear probe")] }
        for count in counts {
            for seed in 0..<setup.seeds(count) {
                let labelled = setup.subset(count, seed: seed)
                let copies = setup.shiftedCopies(count, seed: seed, config)
                let copyFeatures = copies.map { features.features(of: $0.images) }
                let labels = labelled.map { setup.train.labels[$0] } + (copies?.labels ?? [])
                for (b, block) in blocks.enumerated() {
                    var x = features.train[block].indexSelect(labelled, along: 0)
                    if let copyFeatures { x = Tensor.concatenate([x, copyFeatures[block]], along: 0) }
                    for (i, k) in config.neighbourCounts.enumerated() {
                        let knn = NearestNeighbourClassifier(features: x, labels: labels, classCount: 10, k: k, vote: vote(config, k: k))
                        scores[b][i].record(knn.accuracy(features.test[block], labels: setup.test.labels), count: count, seed: seed, subset: labelled)
                    }
                    let probe = LogisticRegression(features: x, labels: labels, classCount: 10, inverseRegularization: config.logisticC)
                    scores[b][scores[b].count - 1].record(probe.accuracy(features.test[block], labels: setup.test.labels),
                                                          count: count, seed: seed, subset: labelled)
                }
            }
        }
        return scores
    }

    func frozenSection(_ chapter: Chapter, _ config: VisionConfig, _ setup: EvaluationSetup, encoders: EncoderSet,
                       pixels: PixelReferences) throws -> FrozenResults {
        chapter.section("4. The frozen encoders: nearest neighbours and a linear probe")
        chapter.say("""
            Each encoder is frozen and every image becomes one vector per block: the block's output averaged over \
            the 49 patches (BEiT's mean pooling of the residual stream), standardized with the statistics of the \
            \(setup.train.count) training images (no label is used for that). The same k-NN and the same logistic \
            regression as on the pixels then read these vectors instead: what they score is what pretraining put \
            within reach of a linear map or of a similarity. Encoders: a random initialization; the chapter's short \
            run (section 2); and the long runs of `make pretrained` (\(encoders.long.map { "\($0.steps) steps" }.first ?? "none"), \
            one per pretraining seed, committed under pretrained/).
            """)
        var result = FrozenResults()
        let backbones = try encoders.all.map { try $0.backbone(config) }
        let (features, seconds) = measure {
            backbones.mapSideBySide { FrozenFeatures($0, train: setup.train, test: setup.test) }
        }
        for (encoder, f) in zip(encoders.all, features) { result.features[encoder.name] = f }
        print("  features of \(setup.train.count + setup.test.count) images from \(encoders.all.count) encoders in \(formatDuration(seconds))")
        let kinds: [(String, [Encoder])] = [("random encoder", [encoders.random])] + (encoders.short.map { [("short run", [$0])] } ?? [])
            + (encoders.long.isEmpty ? [] : [("long runs", encoders.long)])
        let last = config.encoder.blockCount - 1
        let scored = features.mapSideBySide { frozenScores(config, setup, $0, blocks: [last], counts: setup.counts)[0] }
        let byName = Dictionary(uniqueKeysWithValues: zip(encoders.all.map(\.name), scored))
        for (kind, members) in kinds {
            let perMethod = (0..<(config.neighbourCounts.count + 1)).map { m in
                SeededScores(name: "\(kind): \(byName[members[0].name]![m].name)", runs: members.map { byName[$0.name]![m] })
            }
            result.methods.append((kind, perMethod))
        }
        print("  last block, mean-pooled; long runs: the mean over pretraining seeds, and the range of their means")
        printSeededTable(setup, pixels.seeded + result.methods.flatMap(\.scores))

        // Block by block, at one count.
        result.blockCount = setup.counts.contains(100) ? 100 : setup.counts[0]
        let blockScores = features.mapSideBySide {  // [encoder][block][method]
            frozenScores(config, setup, $0, blocks: Array(0..<config.encoder.blockCount), counts: [result.blockCount])
        }
        print("\n  block by block, with \(result.blockCount) labels (\(config.neighbourCounts.last!)-NN / linear probe):")
        for (kind, members) in kinds {
            var line = "  " + kind.padding(toLength: 20, withPad: " ", startingAt: 0)
            let rows = members.map { member in encoders.all.firstIndex { $0.name == member.name }! }
            for block in 0..<config.encoder.blockCount {
                let nearest = mean(rows.map { blockScores[$0][block][config.neighbourCounts.count - 1].statistics(result.blockCount)!.mean })
                let probe = mean(rows.map { blockScores[$0][block].last!.statistics(result.blockCount)!.mean })
                result.blocks.append((kind, block + 1, nearest, probe))
                line += String(format: "   block %d: %4.1f / %4.1f", block + 1, 100 * nearest, 100 * probe)
            }
            print(line)
        }
        pcaFigures(chapter, setup, before: features[0], after: features.last!, afterName: encoders.all.last!.name)
        return result
    }

    /// The test images' last-block features on their first two principal directions, before and after pretraining.
    func pcaFigures(_ chapter: Chapter, _ setup: EvaluationSetup, before: FrozenFeatures, after: FrozenFeatures, afterName: String) {
        for (name, features, title) in [("before", before, "random initialization"), ("after", after, afterName)] {
            let (x, y) = principalComponents(features.test.last!)
            chapter.figure("05-pca-\(name).png") { path throws(PlotError) in
                var figure = Figure(title: "Test features, \(title): first two principal components", xLabel: "PC 1", yLabel: "PC 2")
                for digit in 0..<10 {
                    let rows = setup.test.labels.indices.filter { setup.test.labels[$0] == digit }
                    figure.add(.points(x: rows.map { x[$0] }, y: rows.map { y[$0] }, title: "\(digit)", color: digit + 1, size: 0.5))
                }
                try figure.render(to: path)
            }
        }
    }

    /// One row per method; a method with several encoders shows the mean of their means and the range of those.
    func printSeededTable(_ setup: EvaluationSetup, _ methods: [SeededScores], width: Int = 44) {
        print("  " + "labels:".padding(toLength: width, withPad: " ", startingAt: 0) + setup.counts.map { String(format: "%18d", $0) }.joined())
        for method in methods {
            let cells = setup.counts.map { count -> String in
                if method.runs.count == 1 { return cell(method.runs[0].statistics(count)) }
                let means = method.runMeans(count)
                guard !means.isEmpty else { return cell(nil) }
                let text = String(format: "%.1f (%.1f-%.1f)", 100 * mean(means), 100 * means.min()!, 100 * means.max()!)
                return String(repeating: " ", count: max(1, 18 - text.count)) + text
            }
            print("  " + method.name.padding(toLength: width, withPad: " ", startingAt: 0) + cells.joined())
        }
    }
}

/// The mean of some values (NaN when there are none).
func mean(_ values: [Float]) -> Float { values.isEmpty ? .nan : values.reduce(0, +) / Float(values.count) }
