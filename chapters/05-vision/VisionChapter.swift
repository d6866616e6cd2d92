// # Chapter 05: data2vec on images
//
// What you will learn
//   1. how an image becomes a sequence: 4 x 4 patches, a linear embedding, 2-D positions, block masks;
//   2. data2vec pretraining on 10,000 unlabelled MNIST digits, with the collapse monitor;
//   3. how to evaluate a self-supervised encoder: linear probes and fine-tuning with 100, 1,000 and
//      10,000 labels, against a random encoder and a network trained from scratch, over several seeds;
//   4. what the features look like before and after pretraining (PCA).
// Prerequisites: chapter 04. Run: `swift run -c release ch05-vision` (`--quick`: seconds;
// `--reuse-checkpoint`: evaluate checkpoints/ch05-vision.safetensors without pretraining again).
// Letters: B batch, T = 49 patches, D width, K averaged blocks, tau the EMA decay.
import ArgumentParser
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation
import NN
import Plot

struct Chapter05: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch05-vision", abstract: "data2vec on MNIST: pretraining, probes, fine-tuning.")
    @OptionGroup var options: ChapterOptions
    @Option(help: "Pretraining steps (default 1500; 20 with --quick).") var pretrainSteps: Int?
    @Option(help: "Target point: end-of-block (data2vec vision) or feed-forward (speech and text).") var target = "end-of-block"
    @Flag(help: "Skip pretraining and evaluate the checkpoint a previous run wrote.") var reuseCheckpoint = false
    @Option(help: "Where the pretrained backbone is written and read (safetensors).") var checkpoint: String?

    func validate() throws {
        if let pretrainSteps, pretrainSteps < 10 { throw ValidationError("--pretrain-steps must be at least 10, got \(pretrainSteps)") }
        guard ["end-of-block", "feed-forward"].contains(target) else {
            throw ValidationError("--target must be end-of-block or feed-forward, got \(target)")
        }
    }

    func run() throws {
        let chapter = Chapter(number: 5, title: "data2vec on images", options: options)
        var config = VisionConfig()
        config.steps = pretrainSteps ?? (options.quick ? 20 : 1500)
        config.targetPoint = target == "feed-forward" ? .feedForward : .endOfBlock
        var (train, test) = try loadData(chapter)
        if options.quick { (train, test) = (train.prefix(2000), test.prefix(500)) }
        let checkpoint = URL(fileURLWithPath: self.checkpoint ?? "checkpoints/ch05-vision\(options.quick ? "-quick" : "").safetensors")
        try pretrainingSections(chapter, config, train: train, checkpoint: checkpoint)
        let evaluation = try evaluationSections(chapter, config, train: train, test: test, checkpoint: checkpoint)
        summary(chapter, evaluation, trainCount: train.count)
        try chapter.finish()
    }

    func loadData(_ chapter: Chapter) throws -> (train: MNIST, test: MNIST) {
        chapter.section("1. MNIST as a sequence of 49 patches")
        let directory = URL(fileURLWithPath: options.dataDir)
        let train = try MNIST(directory: directory, split: .train), test = try MNIST(directory: directory, split: .test)
        chapter.say("""
            \(train.count) training and \(test.count) test digits from \(directory.path)/vision (28 x 28, pixels \
            standardized with MNIST's mean and std). The front end (Sources/Data2Vec/Vision) cuts each image into \
            a 7 x 7 grid of 4 x 4 patches, embeds each patch with one Linear(16, D) (the same as BEiT's stride-4 \
            convolution), and adds fixed 2-D sine-cosine positions. The student sees masked patches replaced by \
            one learned vector; the teacher sees every patch. Masks are BEiT's blocks (spec B.2): rectangles of \
            at least 4 patches until about 60% of the 49 are covered, because neighbouring patches of a digit \
            are so alike that masking single patches would make the task a matter of copying a neighbour.
            """)
        return (train, test)
    }

    func pretrainingSections(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, checkpoint: URL) throws {
        var rng = RandomGenerator(seed: options.seed)
        let trainer = makeTrainer(config, using: &rng)
        var maskRNG = RandomGenerator(seed: options.seed + 1)
        let ratios = (0..<20).map { _ in trainer.frontEnd.mask(for: Tensor.zeros([64, 28, 28]), length: 49, using: &maskRNG).ratio }
        let meanRatio = ratios.reduce(0, +) / Double(ratios.count)
        print(String(format: "  masked fraction over 20 batches of 64: %.1f%% (%.1f%%-%.1f%%)", 100 * meanRatio,
                     100 * ratios.min()!, 100 * ratios.max()!))
        chapter.check(abs(meanRatio - 0.6) < 0.05, String(format: "block masking covers about 60%% of the patches (%.1f%%)", 100 * meanRatio))
        let examples = maskedExamples(train, indices: [0, 1, 2, 3], frontEnd: trainer.frontEnd, using: &maskRNG)
        chapter.figure("05-masked-examples.png") { path throws(PlotError) in
            try ImageGrid.render(examples.images, width: 28, height: 28, columns: 3, titles: examples.titles,
                                 title: "Block masks (white = masked) and what the student sees", to: path)
        }

        chapter.section("2. Pretraining with data2vec")
        let parameterCount = trainer.frontEnd.parameters.map(\.count).reduce(0, +) + trainer.student.parameters.map(\.count).reduce(0, +)
        chapter.say("""
            The model is the benchmark's vision-tiny: D = \(config.dimension), \(config.blocks) pre-LN blocks of \
            \(config.heads) heads, MLP \(config.feedForward), \(parameterCount) parameters in front end and encoder. \
            Targets: the teacher's \(config.targetPoint == .endOfBlock ? "block outputs (end of block, as data2vec vision)" : "FFN outputs (as data2vec speech and text)") \
            for the top K = \(config.topK) blocks, each layer-normalized, averaged, normalized again; Smooth L1 with \
            beta 2 at the masked patches. AdamW (peak lr \(config.peakLearningRate), 10% warm-up, cosine), batch \
            \(config.batchSize), \(config.steps) steps = \(config.steps * config.batchSize / train.count) epochs. \
            tau goes linearly from \(config.tau.start) to \(config.tau.end). The paper keeps 0.9998 for 800 epochs \
            of ImageNet; a teacher that slow would barely move in a 1,500-step run (it averages over about \
            1 / (1 - tau) = 5,000 steps), so the run uses a faster teacher with the same shape of schedule.
            """)
        if reuseCheckpoint {
            guard FileManager.default.fileExists(atPath: checkpoint.path) else {
                throw ChapterError("--reuse-checkpoint: \(checkpoint.path) does not exist; run the chapter once without the flag")
            }
            chapter.say("--reuse-checkpoint: pretraining skipped; the evaluation reads \(checkpoint.path).")
            return
        }
        let (metrics, seconds) = try measure { try pretrain(trainer, config, images: train, chapter: chapter, using: &rng) }
        print("  pretraining took \(formatDuration(seconds)) (\(String(format: "%.0f", seconds * 1000 / Double(config.steps))) ms per step)")
        let backbone = VisionBackbone(frontEnd: trainer.frontEnd, encoder: trainer.student)
        try FileManager.default.createDirectory(at: checkpoint.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Checkpoint.save(backbone, metadata: ["steps": "\(config.steps)", "seed": "\(options.seed)", "target": target], to: checkpoint)
        print("  checkpoint: \(checkpoint.path) (front end and student encoder; the evaluation reads it back)")

        let steps = metrics.indices.map { Double($0 + 1) }
        chapter.figure("05-pretraining.png") { path throws(PlotError) in
            var figure = Figure(title: "data2vec pretraining on MNIST (seed \(options.seed))", xLabel: "step", yLabel: "value")
            figure.add(.line(x: steps, y: smoothed(metrics.map { Double($0.loss) }), title: "loss (moving average of 25 steps)"))
            figure.add(.line(x: steps, y: metrics.map { Double($0.targetVariance) }, title: "target variance (compute\\_var)"))
            figure.add(.line(x: steps, y: metrics.map { Double($0.predictionVariance) }, title: "prediction variance"))
            try figure.render(to: path)
        }
        let afterWarmup = metrics.dropFirst(config.steps / 10)
        let lowestPrediction = afterWarmup.map(\.predictionVariance).min() ?? 0
        let lowestTarget = afterWarmup.map(\.targetVariance).min() ?? 0
        print(String(format: "  after warm-up: lowest target variance %.3f, lowest prediction variance %.3f; last loss %.4f",
                     lowestTarget, lowestPrediction, metrics.last!.loss))
        chapter.say("""
            The loss does not simply fall: the targets move as the teacher learns (fairseq issue 4177 discusses \
            the same shape). What must not happen is collapse, which the variances would show (chapter 04): \
            with layer-normalized targets their variance per channel stays near 1, and the predictions follow.
            """)
        if !options.quick {
            chapter.check(lowestTarget > 0.1 && lowestPrediction > 0.1,
                          String(format: "no collapse: target and prediction variance stay above fairseq's 0.1 floor after warm-up (%.3f, %.3f)", lowestTarget, lowestPrediction))
        }
    }
}

/// A moving average over the last `window` values (shorter at the start).
func smoothed(_ values: [Double], window: Int = 25) -> [Double] {
    var result: [Double] = [], sum = 0.0
    for (i, v) in values.enumerated() {
        sum += v
        if i >= window { sum -= values[i - window] }
        result.append(sum / Double(min(i + 1, window)))
    }
    return result
}

extension MNIST {
    /// The first `count` images (for quick runs).
    func prefix(_ count: Int) -> MNIST { subset(Array(0..<min(count, self.count))) }
}
