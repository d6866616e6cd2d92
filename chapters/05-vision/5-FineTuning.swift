// Chapter 05, section 5: fine-tuning against training from scratch. The whole network (backbone, LayerNorm and
// a fresh Linear head, BEiT's classifier) trains on the labelled images; from scratch is the same network from
// a random initialization. Both get the same budget rule and the same small grid of learning rates, and each
// picks its own rate on labelled images held out of the first draw, never on test images.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

/// What section 5 measured.
struct FineTuningResults {
    /// "from scratch", "fine-tuned, short run", "fine-tuned, long runs": one ProtocolScores per encoder.
    var arms: [SeededScores] = []
    /// Per arm and count, the learning rate chosen (or the grid's middle when nothing could be held out).
    var learningRates: [String: [Int: Float]] = [:]
    /// Per arm and count, the updates each run took.
    var updates: [String: [Int: [Int]]] = [:]
    /// Every choice of a learning rate: the labelled images held out of the draw that decided it (none: the
    /// grid's middle rate, nothing chosen).
    var choices: [(arm: String, count: Int, heldOut: Int)] = []

    func arm(_ name: String) -> SeededScores? { arms.first { $0.name == name } }
}

extension Chapter05 {
    /// One fine-tuning run: which encoder (nil checkpoint: from scratch), at which count, draw and rate.
    struct FineTuneJob {
        var arm: String
        var encoder: Encoder
        var count: Int, seed: Int
        var learningRate: Float
    }

    func fineTuningSection(_ chapter: Chapter, _ config: VisionConfig, _ setup: EvaluationSetup, encoders: EncoderSet,
                           pixels: PixelReferences) throws -> FineTuningResults {
        let budget = config.fineTuningBudget
        let counts = config.fineTuneCounts.filter(setup.counts.contains)
        guard !counts.isEmpty else {
            chapter.section("5. Fine-tuning: none in this run (--fine-tune-counts 0)")
            return FineTuningResults()
        }
        chapter.section("5. Fine-tuning against training from scratch, with \(counts.map(String.init).joined(separator: ", ")) labels")
        chapter.say("""
            The whole network is trained on the labelled images: the backbone, then BEiT's classifier (mean pooling, \
            LayerNorm, a fresh Linear head). From scratch is the same network from a random initialization. Both \
            follow one budget rule (at most \(budget.maximumSteps) updates of \(budget.batchSize) with up to 100 \
            labels and \(config.manyLabelMaximumSteps) with more, at least \(budget.minimumSteps), validated on \
            \(Int(100 * budget.validationFraction))% of the labelled images held out class by class, stopped after \
            \(budget.patience) validations without improvement, keeping the best) and one grid of peak learning rates \
            (\(config.learningRates.map { String(format: "%g", $0) }.joined(separator: ", "))): each method picks \
            its rate per label count by the held-out score of the first draw, then uses it for every draw. With \
            fewer than \(budget.minimumExamplesForValidation) labels nothing can be held out, so every method takes \
            the grid's middle rate and trains all \(budget.maximumSteps) updates. This run fine-tunes with \
            \(counts.map(String.init).joined(separator: ", ")) labels; `--fine-tune-counts 10 50 100 1000` runs the \
            whole protocol (about half an hour).
            """)
        let scratch = Encoder(name: "from scratch", steps: 0, checkpoint: nil, initSeed: 0)
        var arms: [(name: String, encoders: [Encoder])] = [("from scratch", [scratch])]
        if let short = encoders.short, !config.shortRunFineTuneCounts.isEmpty { arms.append(("fine-tuned, short run", [short])) }
        /// Whether `arm` is fine-tuned at `count` (the short run only at its counts).
        func runs(_ arm: String, at count: Int) -> Bool { arm != "fine-tuned, short run" || config.shortRunFineTuneCounts.contains(count) }
        if !encoders.long.isEmpty { arms.append(("fine-tuned, long runs", encoders.long)) }
        let middle = config.learningRates[config.learningRates.count / 2]
        var result = FineTuningResults()
        var done: [String: Float] = [:]  // "arm|encoder|count|seed|rate" -> accuracy (and the updates)
        var steps: [String: Int] = [:]
        var validation: [String: Float] = [:]  // the best held-out score of each run
        var heldOut: [String: Int] = [:]  // the labelled images held out of each run
        func key(_ job: FineTuneJob) -> String { "\(job.arm)|\(job.encoder.name)|\(job.count)|\(job.seed)|\(job.learningRate)" }
        func run(_ jobs: [FineTuneJob]) throws {
            let outcomes = try jobs.mapSideBySide { try fineTune($0, config, setup) }
            for (job, (accuracy, report)) in zip(jobs, outcomes) {
                done[key(job)] = accuracy
                steps[key(job)] = report.steps
                if let score = report.bestValidationScore { validation[key(job)] = score }
                heldOut[key(job)] = report.validationExamples
            }
        }
        let start = Date()

        // The rate: every rate of the grid on the first draw, with the first encoder of each arm.
        let choosable = counts.filter { $0 >= budget.minimumExamplesForValidation }
        try run(choosable.flatMap { count in arms.filter { runs($0.name, at: count) }.flatMap { arm in config.learningRates.map { rate in
            FineTuneJob(arm: arm.name, encoder: arm.encoders[0], count: count, seed: 0, learningRate: rate) } } })
        for arm in arms {
            for count in counts where runs(arm.name, at: count) {
                let rate = choosable.contains(count)
                    ? config.learningRates.max { validation[key(FineTuneJob(arm: arm.name, encoder: arm.encoders[0], count: count, seed: 0, learningRate: $0))] ?? -1
                                               < validation[key(FineTuneJob(arm: arm.name, encoder: arm.encoders[0], count: count, seed: 0, learningRate: $1))] ?? -1 }!
                    : middle
                result.learningRates[arm.name, default: [:]][count] = rate
                if choosable.contains(count) {
                    let first = FineTuneJob(arm: arm.name, encoder: arm.encoders[0], count: count, seed: 0, learningRate: rate)
                    result.choices.append((arm.name, count, heldOut[key(first)] ?? 0))
                }
            }
        }
        // Every draw with every encoder at its arm's rate (what the grid already ran is not run again).
        let jobs = arms.flatMap { arm in arm.encoders.flatMap { encoder in counts.filter { runs(arm.name, at: $0) }.flatMap { count in (0..<setup.seeds(count)).map { seed in
            FineTuneJob(arm: arm.name, encoder: encoder, count: count, seed: seed, learningRate: result.learningRates[arm.name]![count]!) } } } }
        try run(jobs.filter { done[key($0)] == nil })
        print(String(format: "  %d fine-tuning runs in %@", done.count, formatDuration(Date().timeIntervalSince(start))))

        for arm in arms {
            var runs = arm.encoders.map { ProtocolScores(arm.encoders.count == 1 ? arm.name : "\(arm.name): \($0.name)") }
            for job in jobs where job.arm == arm.name {
                let e = arm.encoders.firstIndex { $0.name == job.encoder.name }!
                runs[e].record(done[key(job)]!, count: job.count, seed: job.seed, subset: setup.subset(job.count, seed: job.seed))
                result.updates[arm.name, default: [:]][job.count, default: []].append(steps[key(job)]!)
            }
            result.arms.append(SeededScores(name: arm.name, runs: runs))
        }
        printSeededTable(setup, pixels.seeded + result.arms)
        for arm in arms {
            let armCounts = counts.filter { runs(arm.name, at: $0) }
            print("  \(arm.name): learning rate " + armCounts.map { String(format: "%g", result.learningRates[arm.name]![$0]!) + " (\($0))" }.joined(separator: ", ")
                  + "; updates " + armCounts.map { c in let u = result.updates[arm.name]![c]!; return "\(u.min()!)-\(u.max()!) (\(c))" }.joined(separator: ", "))
        }
        return result
    }

    /// The budget rule at `count` labels: more updates allowed beyond 100 labels, the same for every method.
    func budget(_ config: VisionConfig, count: Int) -> TrainingBudget {
        var budget = config.fineTuningBudget
        if count > 100 { budget.maximumSteps = config.manyLabelMaximumSteps }
        return budget
    }

    /// Trains a fresh classifier on one draw's labelled images; returns its test accuracy and what it did.
    func fineTune(_ job: FineTuneJob, _ config: VisionConfig, _ setup: EvaluationSetup) throws -> (Float, TrainingReport) {
        var encoder = job.encoder
        if encoder.checkpoint == nil { encoder.initSeed = options.seed.derived("scratch \(job.count)", job.seed) }
        var rng = RandomGenerator(seed: options.seed.derived("head \(job.count)", job.seed))
        let model = ImageClassifier(backbone: try encoder.backbone(config), classCount: 10, using: &rng)
        var optimization = config.fineTuning
        optimization.peakLearningRate = job.learningRate
        func accuracyOn(_ data: MNIST, _ indices: [Int]) -> Float {
            let logits = chunks(indices, size: 500).map { model(data.batch($0).images) }
            return accuracy(logits: Tensor.concatenate(logits, along: 0), labels: indices.map { data.labels[$0] })
        }
        var shifts = RandomGenerator(seed: options.seed.derived("shifts \(job.count)", job.seed))
        let report = trainWithEarlyStopping(
            model, optimization: optimization, examples: setup.subset(job.count, seed: job.seed), labels: setup.train.labels,
            budget: budget(config, count: job.count), seed: options.seed.derived("fine-tune \(job.count)", job.seed),
            loss: { batch in
                let (images, labels) = config.maximumShift > 0 ? setup.train.shiftedBatch(batch, maxShift: config.maximumShift, using: &shifts)
                                                               : setup.train.batch(batch)
                return Loss.crossEntropy(logits: model(images), labels: labels)
            },
            score: { accuracyOn(setup.train, $0) })
        return (Tensor.withoutGradients { accuracyOn(setup.test, Array(0..<setup.test.count)) }, report)
    }
}
