// Chapter 05, section 4: how much a few labels are worth. Linear probes and fine-tuning with 10 to 10,000
// labels, each against its baseline, over seeds: the paper's message (pretraining matters most when labels
// are few) in small.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim
import Plot

/// Test accuracies per number of labels, over seeds, and the updates each supervised run used.
struct LabelResults {
    var counts: [Int] = []
    var probe: [Int: SeedStatistics] = [:], randomProbe: [Int: SeedStatistics] = [:]
    var fineTuned: [Int: SeedStatistics] = [:], scratch: [Int: SeedStatistics] = [:]
    var fineTunedSteps: [Int: [Int]] = [:], scratchSteps: [Int: [Int]] = [:]
}

extension Chapter05 {
    func labelsSection(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, test: MNIST, backbones: Backbones) throws -> LabelResults {
        var result = LabelResults()
        result.counts = config.labelCounts.filter { $0 <= train.count }
        let budget = config.fineTuningBudget
        chapter.section("4. Linear probes and fine-tuning with \(result.counts.map(String.init).joined(separator: ", ")) labels")
        chapter.say("""
            Linear probe: the backbone is frozen; LayerNorm + Linear is trained on its pooled features of the \
            labelled images (\(config.probe.epochs) epochs, AdamW). Fine-tuning: the whole network (backbone, \
            LayerNorm and a fresh Linear head, BEiT's classifier) is trained on the labelled images. Its baseline is \
            the same network trained from a random initialization: from scratch. Both get the same budget rule: \
            passes over the labelled images (at most \(budget.maximumEpochs) epochs and \(budget.maximumSteps) \
            updates of \(budget.batchSize)), validated on \(Int(100 * budget.validationFraction))% of the labelled \
            images held out class by class, stopped after \(budget.patience) validations without improvement, \
            and ending with the best validated parameters. With fewer than \(budget.minimumExamplesForValidation) \
            labels nothing can be held out, and both train for all \(budget.maximumEpochs) epochs. The probe's \
            baseline is the same probe on a random encoder. Each seed draws its own class-balanced labelled \
            subset; the test set is always all \(test.count) test images, never used for a choice.
            """)
        print("  labels  seed   probe: data2vec  random   fine-tuned (updates)  scratch (updates)")
        print("  (each pair of runs, data2vec and its baseline, runs side by side on the two cores)")
        for count in result.counts {
            let start = Date()
            let fineTuneSeeds = config.fineTuneSeeds[count] ?? 1
            let seeds = max(config.probeSeeds, fineTuneSeeds)
            let subsets = try (0..<seeds).map { seed -> [Int] in
                var pick = RandomGenerator(seed: options.seed &+ 1000 &* UInt64(seed) &+ UInt64(count))
                return try balancedSubset(labels: train.labels, classCount: 10, count: count, using: &pick)
            }
            // Jobs in pairs (data2vec, baseline): the probes of every seed, then the supervised runs.
            let probes = Parallel.independentJobs(2 * config.probeSeeds) { job -> Float in
                let (seed, pretrained) = (job / 2, job % 2 == 0)
                let (trainFeatures, testFeatures) = pretrained ? (backbones.pretrainedTrain.pooled, backbones.pretrainedTest.pooled)
                                                               : (backbones.randomTrain.pooled, backbones.randomTest.pooled)
                return probeAccuracy(trainFeatures, testFeatures, train: train, test: test, labelled: subsets[seed], config: config.probe, seed: UInt64(seed))
            }
            let supervisedRuns = Parallel.independentJobs(2 * fineTuneSeeds) { job -> (accuracy: Float, report: TrainingReport) in
                let (seed, pretrained) = (job / 2, job % 2 == 0)
                var initRNG = RandomGenerator(seed: options.seed &+ 7 &+ UInt64(seed) &* 2 &+ (pretrained ? 0 : 1))
                let backbone = pretrained ? try! backbones.pretrained(config, using: &initRNG)
                                          : VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &initRNG)
                let model = ImageClassifier(backbone: backbone, classCount: 10, using: &initRNG)
                return supervised(model, config, train: train, test: test, labelled: subsets[seed], seed: UInt64(seed))
            }
            for seed in 0..<seeds {
                var line = String(format: "  %6d  %4d", count, seed)
                if seed < config.probeSeeds {
                    result.probe[count, default: SeedStatistics()].append(probes[2 * seed])
                    result.randomProbe[count, default: SeedStatistics()].append(probes[2 * seed + 1])
                    line += String(format: "         %6.1f%%  %6.1f%%", 100 * probes[2 * seed], 100 * probes[2 * seed + 1])
                } else {
                    line += "              -        -"
                }
                if seed < fineTuneSeeds {
                    let (tuned, scratch) = (supervisedRuns[2 * seed], supervisedRuns[2 * seed + 1])
                    result.fineTuned[count, default: SeedStatistics()].append(tuned.accuracy)
                    result.scratch[count, default: SeedStatistics()].append(scratch.accuracy)
                    result.fineTunedSteps[count, default: []].append(tuned.report.steps)
                    result.scratchSteps[count, default: []].append(scratch.report.steps)
                    line += String(format: "        %6.1f%% (%5d)     %6.1f%% (%5d)", 100 * tuned.accuracy, tuned.report.steps,
                                   100 * scratch.accuracy, scratch.report.steps)
                }
                print(line)
            }
            print(String(format: "          (%d labels: %.0f s)", count, Date().timeIntervalSince(start)))
            fflush(nil)
        }
        report(chapter, result)
        return result
    }

    func probeAccuracy(_ trainFeatures: Tensor, _ testFeatures: Tensor, train: MNIST, test: MNIST, labelled: [Int],
                       config: LinearProbeConfiguration, seed: UInt64) -> Float {
        LinearProbe.accuracy(trainFeatures: trainFeatures, trainLabels: train.labels, labelled: labelled, testFeatures: testFeatures,
                             testLabels: test.labels, classCount: 10, configuration: config, seed: seed)
    }

    /// Trains `model` on the labelled images under the chapter's budget rule; returns its test accuracy.
    func supervised(_ model: ImageClassifier, _ config: VisionConfig, train: MNIST, test: MNIST, labelled: [Int], seed: UInt64)
        -> (accuracy: Float, report: TrainingReport) {
        func accuracyOn(_ data: MNIST, _ indices: [Int]) -> Float {
            let logits = chunks(indices, size: 500).map { model(data.batch($0).images) }
            return accuracy(logits: Tensor.concatenate(logits, along: 0), labels: indices.map { data.labels[$0] })
        }
        let report = trainWithEarlyStopping(
            model, optimization: config.fineTuning, examples: labelled, labels: train.labels, budget: config.fineTuningBudget, seed: seed,
            loss: { batch in
                let (images, labels) = train.batch(batch)
                return Loss.crossEntropy(logits: model(images), labels: labels)
            },
            score: { accuracyOn(train, $0) })
        return (Tensor.withoutGradients { accuracyOn(test, Array(0..<test.count)) }, report)
    }

    func report(_ chapter: Chapter, _ result: LabelResults) {
        print("\n  labels   probe: data2vec          random encoder           fine-tuned               from scratch")
        for count in result.counts {
            let cells = [result.probe[count], result.randomProbe[count], result.fineTuned[count], result.scratch[count]]
                .map { ($0?.summary() ?? "-").padding(toLength: 24, withPad: " ", startingAt: 0) }
            print(String(format: "  %6d   ", count) + cells.joined(separator: " "))
        }
        print("  (+- is half the range over the seeds; updates used by fine-tuning / from scratch: "
              + result.counts.map { "\($0): \(result.fineTunedSteps[$0] ?? []) / \(result.scratchSteps[$0] ?? [])" }.joined(separator: "; ") + ")")
        chapter.figure("05-accuracy-vs-labels.png") { path throws(PlotError) in
            var figure = Figure(title: "MNIST test accuracy against labelled training images (mean and range over seeds)",
                                xLabel: "labelled training images", yLabel: "test accuracy (%)")
            let series: [(String, [Int: SeedStatistics])] = [("fine-tuned from data2vec", result.fineTuned), ("trained from scratch", result.scratch),
                                                             ("linear probe, data2vec", result.probe), ("linear probe, random encoder", result.randomProbe)]
            for (name, values) in series {
                let counts = result.counts.filter { values[$0] != nil }
                let stats = counts.map { values[$0]! }
                figure.add(.lineWithRanges(x: counts.map(Double.init), y: stats.map { 100 * Double($0.mean) },
                                           low: stats.map { 100 * Double($0.values.min()!) }, high: stats.map { 100 * Double($0.values.max()!) },
                                           title: name))
            }
            figure.logScaleX = true
            figure.yRange = 0...100
            figure.extraSettings = ["set key bottom right inside"]
            try figure.render(to: path)
        }
        guard !options.quick else { return }
        let fewest = result.counts.first!, most = result.counts.last!
        if let probe = result.probe[100], let random = result.randomProbe[100] {
            chapter.check(probe.mean >= random.mean + 0.05,
                          String(format: "with 100 labels the data2vec probe beats the random-encoder probe by at least 5 points (%.1f%% vs %.1f%%)",
                                 100 * probe.mean, 100 * random.mean))
        }
        for count in result.counts {
            guard let tuned = result.fineTuned[count], let scratch = result.scratch[count] else { continue }
            chapter.outcome(tuned.mean > scratch.mean,
                          String(format: "with %d labels, fine-tuning the pretrained network beats training from scratch (%.1f%% vs %.1f%%)",
                                 count, 100 * tuned.mean, 100 * scratch.mean))
        }
        if let gapFew = gap(result, fewest), let gapMost = gap(result, most) {
            chapter.outcome(gapFew > gapMost,
                          String(format: "pretraining matters most when labels are few: fine-tuned minus scratch is %.1f points with %d labels, %.1f with %d",
                                 100 * gapFew, fewest, 100 * gapMost, most))
        }
    }

    func gap(_ result: LabelResults, _ count: Int) -> Float? {
        guard let tuned = result.fineTuned[count], let scratch = result.scratch[count] else { return nil }
        return tuned.mean - scratch.mean
    }
}
