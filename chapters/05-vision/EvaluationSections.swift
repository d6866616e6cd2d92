// Chapter 05, sections 3-5: features before and after pretraining, linear probes, and fine-tuning,
// each against its baseline.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation
import NN
import Plot

/// Test accuracies of one method over seeds.
struct Accuracies {
    var values: [Float] = []
    var mean: Float { values.reduce(0, +) / Float(max(values.count, 1)) }
    var spread: Float { (values.max() ?? 0) - (values.min() ?? 0) }
    /// "97.1%" for one seed, "97.1% +- 0.4 (3 seeds)" for several (half the range).
    var summary: String {
        values.count > 1 ? String(format: "%.1f%% +- %.1f (%d seeds)", 100 * mean, 50 * spread, values.count)
                         : String(format: "%.1f%%", 100 * mean)
    }
}

/// What the evaluation measured, per number of labels.
struct Evaluation {
    var labelCounts: [Int] = []
    var pretrainingSteps = 0
    var probe: [Int: Accuracies] = [:], randomProbe: [Int: Accuracies] = [:]
    var fineTuned: [Int: Accuracies] = [:], scratch: [Int: Accuracies] = [:]
    /// Section 5: (features, data2vec probe, random-encoder probe) with every label.
    var diagnosis: [(features: String, data2vec: Float, random: Float)] = []
}

extension Chapter05 {
    func evaluationSections(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, test: MNIST, checkpoint: URL) throws -> Evaluation {
        // (The features are also handed to section 5's diagnosis, at the end of this function.)
        var rng = RandomGenerator(seed: options.seed + 100)
        func pretrainedBackbone() throws -> VisionBackbone {  // a fresh copy, read from the checkpoint
            let backbone = VisionBackbone(config, using: &rng)
            try Checkpoint.load(checkpoint, into: backbone)
            return backbone
        }
        let pretrained = try pretrainedBackbone(), random = VisionBackbone(config, using: &rng)
        let ((trainSet, testSet, randomTrainSet, randomTestSet), seconds) = measure {
            (FrozenFeatures(pretrained, train), FrozenFeatures(pretrained, test), FrozenFeatures(random, train), FrozenFeatures(random, test))
        }
        print("  features of \(train.count + test.count) images from both backbones in \(formatDuration(seconds))")
        let (trainFeatures, testFeatures) = (trainSet.pooled, testSet.pooled)
        let (randomTrain, randomTest) = (randomTrainSet.pooled, randomTestSet.pooled)

        chapter.section("3. The features, before and after (PCA)")
        chapter.say("""
            Each image becomes one vector: the mean of the encoder's 49 output vectors (after its final \
            LayerNorm). Below, the test images' vectors projected onto their first two principal directions, for a \
            randomly initialized encoder and for the pretrained one, coloured by digit.
            """)
        for (name, features, title) in [("before", randomTest, "random initialization"), ("after", testFeatures, "after data2vec")] {
            let (x, y) = principalComponents(features)
            chapter.figure("05-pca-\(name).png") { path throws(PlotError) in
                var figure = Figure(title: "Test features, \(title): first two principal components", xLabel: "PC 1", yLabel: "PC 2")
                for digit in 0..<10 {
                    let rows = test.labels.indices.filter { test.labels[$0] == digit }
                    figure.add(.points(x: rows.map { x[$0] }, y: rows.map { y[$0] }, title: "\(digit)", color: digit + 1, size: 0.5))
                }
                try figure.render(to: path)
            }
        }

        var result = Evaluation()
        result.labelCounts = options.quick ? [100, 1000] : [100, 1000, train.count]
        result.pretrainingSteps = config.steps
        let fineTuneSteps = options.quick ? 10 : 120
        chapter.section("4. Linear probes and fine-tuning with \(result.labelCounts.map(String.init).joined(separator: ", ")) labels")
        chapter.say("""
            Linear probe: the backbone is frozen; a LayerNorm + Linear classifier is trained on its mean-pooled \
            features of the labelled images (30 epochs, AdamW). Fine-tuning: the whole network, backbone and \
            that head, is trained for \(fineTuneSteps) steps of batch 64 (AdamW, lr 1e-3). The baselines get the \
            same treatment: the probe on a randomly initialized backbone, and the same network fine-tuned from a \
            random initialization (training from scratch with the same budget). Each seed draws its own \
            class-balanced labelled subset; the test set is always all \(test.count) test images.
            """)
        print("  labels  seed  probe: data2vec  random   fine-tune: data2vec  scratch   (seconds)")
        for count in result.labelCounts {
            let probeSeeds: [UInt64] = options.quick || count == train.count ? [0] : [0, 1, 2]
            let fineTuneSeeds: [UInt64] = options.quick || count == train.count ? [0] : [0, 1]
            for seed in probeSeeds {
                let start = Date()
                var pick = RandomGenerator(seed: options.seed + 1000 * seed + UInt64(count))
                let labelled = train.balancedSubset(count, using: &pick)
                let probe = linearProbe(trainFeatures: trainFeatures, trainLabels: train.labels, labelled: labelled,
                                        testFeatures: testFeatures, testLabels: test.labels, seed: seed)
                let randomProbe = linearProbe(trainFeatures: randomTrain, trainLabels: train.labels, labelled: labelled,
                                              testFeatures: randomTest, testLabels: test.labels, seed: seed)
                result.probe[count, default: Accuracies()].values.append(probe)
                result.randomProbe[count, default: Accuracies()].values.append(randomProbe)
                var line = String(format: "  %6d  %4d         %6.1f%%  %6.1f%%", count, seed, 100 * probe, 100 * randomProbe)
                if fineTuneSeeds.contains(seed) {
                    var initRNG = RandomGenerator(seed: options.seed + 7 + seed)
                    let fromData2Vec = Classifier(backbone: try pretrainedBackbone(), dimension: config.dimension, using: &initRNG)
                    let fromScratch = Classifier(backbone: VisionBackbone(config, using: &initRNG), dimension: config.dimension, using: &initRNG)
                    let tuned = fineTune(fromData2Vec, train: train, labelled: labelled, test: test, steps: fineTuneSteps, seed: seed)
                    let scratch = fineTune(fromScratch, train: train, labelled: labelled, test: test, steps: fineTuneSteps, seed: seed)
                    result.fineTuned[count, default: Accuracies()].values.append(tuned)
                    result.scratch[count, default: Accuracies()].values.append(scratch)
                    line += String(format: "              %6.1f%%  %6.1f%%", 100 * tuned, 100 * scratch)
                } else {
                    line += "                   -        -"
                }
                print(line + String(format: "   (%.0f s)", Date().timeIntervalSince(start)))
                fflush(nil)
            }
        }
        report(chapter, result, trainCount: train.count)
        result.diagnosis = diagnosisSection(chapter, config, train: train, test: test,
                                            pretrained: (trainSet, testSet), random: (randomTrainSet, randomTestSet))
        return result
    }

    func report(_ chapter: Chapter, _ result: Evaluation, trainCount: Int) {
        print("\n  labels   probe: data2vec          random encoder           fine-tune: data2vec      from scratch")
        for count in result.labelCounts {
            let cells = [result.probe[count], result.randomProbe[count], result.fineTuned[count], result.scratch[count]]
                .map { ($0?.summary ?? "-").padding(toLength: 24, withPad: " ", startingAt: 0) }
            print(String(format: "  %6d   ", count) + cells.joined(separator: " "))
        }
        chapter.figure("05-accuracy-vs-labels.png") { path throws(PlotError) in
            var figure = Figure(title: "MNIST test accuracy (%) against labelled training images (mean over seeds)", yLabel: "accuracy (%)")
            let series: [(String, [Int: Accuracies])] = [("probe, data2vec", result.probe), ("probe, random encoder", result.randomProbe),
                                                          ("fine-tuned, data2vec", result.fineTuned), ("trained from scratch", result.scratch)]
            figure.add(.bars(categories: result.labelCounts.map { "\($0) labels" },
                             series: series.map { name, values in (name, result.labelCounts.map { Double(100 * (values[$0]?.mean ?? 0)) }) }))
            figure.yRange = 0...100
            try figure.render(to: path)
        }
        guard !options.quick, let probe100 = result.probe[100], let random100 = result.randomProbe[100],
              let probeAll = result.probe[trainCount], let randomAll = result.randomProbe[trainCount] else { return }
        chapter.check(probe100.mean >= random100.mean + 0.05,
                      String(format: "with 100 labels the data2vec probe beats the random-encoder probe by at least 5 points (%.1f%% vs %.1f%%)",
                             100 * probe100.mean, 100 * random100.mean))
        chapter.check(probeAll.mean > randomAll.mean + 0.05,
                      String(format: "with all labels too (%.1f%% vs %.1f%%)", 100 * probeAll.mean, 100 * randomAll.mean))
        for count in [100, 1000] {
            guard let tuned = result.fineTuned[count], let scratch = result.scratch[count] else { continue }
            chapter.check(tuned.mean > scratch.mean,
                          String(format: "with %d labels, fine-tuning the pretrained network beats training from scratch (%.1f%% vs %.1f%%)",
                                 count, 100 * tuned.mean, 100 * scratch.mean))
        }
    }
}
