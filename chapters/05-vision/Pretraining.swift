// Chapter 05, sections 1-3: the vision model, its masks, and data2vec pretraining on MNIST.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation
import NN
import Optim

/// The sizes and training choices of the vision model (spec B.2 scaled down as in DESIGN section 4: the
/// benchmark's vision-tiny, D 64, 4 pre-LN blocks of 4 heads, MLP 256, 49 patches of 4 x 4 pixels).
struct VisionConfig {
    var dimension = 64, blocks = 4, heads = 4, feedForward = 256
    /// Targets: the average of all K = 4 blocks (the paper averages the top 6 of 12 for ViT-B).
    var topK = 4
    /// The end of each block, as data2vec vision (`layer_results='end'`, spec A.5); a flag of the chapter.
    var targetPoint: TargetPoint = .endOfBlock
    var batchSize = 64
    var steps = 1500
    var peakLearningRate: Float = 2e-3
    /// EMA decay, annealed linearly over the run (paper: 0.9998 constant over 800 epochs; see the chapter).
    var tau: (start: Float, end: Float) = (0.99, 0.999)
}

func makeEncoder(_ config: VisionConfig, using rng: inout RandomGenerator) -> TransformerEncoder {
    TransformerEncoder(blockCount: config.blocks, dimension: config.dimension, headCount: config.heads,
                       feedForwardDimension: config.feedForward, placement: .preLN, initializer: .truncatedNormal(std: 0.02),
                       using: &rng)
}

/// The data2vec trainer for images: BEiT block masks on the 7 x 7 grid, layer-normalized targets from the
/// teacher's blocks, Smooth L1 with beta 2, AdamW with warm-up and cosine decay (spec B.2, A.12).
func makeTrainer(_ config: VisionConfig, using rng: inout RandomGenerator) -> Data2VecTrainer<ImagePatchFrontEnd> {
    let frontEnd = ImagePatchFrontEnd(dimension: config.dimension, using: &rng)
    var d2v = Data2VecConfig(averageTopKLayers: config.topK, layerwiseTargetNorm: .layer, emaAnnealEndStep: config.steps)
    d2v.targetPoint = config.targetPoint
    d2v.finalTargetNorm = .layer
    d2v.lossBeta = 2
    d2v.emaDecay = config.tau.start
    d2v.emaEndDecay = config.tau.end
    d2v.clipNorm = 3
    let student = makeEncoder(config, using: &rng), copy = makeEncoder(config, using: &rng)
    let head = RegressionHead(dimension: config.dimension, initializer: .truncatedNormal(std: 0.02), using: &rng)
    let schedule = WarmupCosineSchedule(peak: config.peakLearningRate, warmupSteps: config.steps / 10,
                                        totalSteps: config.steps, minimum: config.peakLearningRate / 100)
    return Data2VecTrainer(frontEnd: frontEnd, student: student, teacherCopy: copy, head: head, config: d2v, schedule: schedule) { named in
        AdamW(ParameterGroup.standard(named, weightDecay: 0.05), learningRate: config.peakLearningRate, beta2: 0.98)
    }
}

/// Runs `config.steps` data2vec steps over shuffled batches of `images`; returns every step's metrics.
func pretrain(_ trainer: Data2VecTrainer<ImagePatchFrontEnd>, _ config: VisionConfig, images: MNIST, chapter: Chapter,
              using rng: inout RandomGenerator) throws -> [StepMetrics] {
    let progress = ProgressLine("pretrain", total: config.steps)
    var metrics: [StepMetrics] = []
    var batches = ShuffledBatches(rng.permutation(images.count), size: config.batchSize, shuffleBeforeFirstBatch: false)
    for step in 1...config.steps {
        let batch = images.batch(batches.next(using: &rng)).images
        let m = trainer.step(batch, using: &rng)
        try chapter.requireFinite(m.loss, "the pretraining loss", step: step)
        metrics.append(m)
        progress.update(step: step, ["loss": m.loss, "target var": m.targetVariance, "pred var": m.predictionVariance])
    }
    return metrics
}

/// Images for the masked-examples figure: per example, the image, its mask (white = masked) and what the
/// student sees (masked patches drawn as mid-grey, 1.2 in standardized pixels: the student gets the learned mask vector there).
func maskedExamples(_ images: MNIST, indices: [Int], frontEnd: ImagePatchFrontEnd, using rng: inout RandomGenerator)
    -> (images: [[Float]], titles: [String]) {
    let mask = frontEnd.mask(for: images.batch(indices).images, length: 49, using: &rng)
    var grids: [[Float]] = [], titles: [String] = []
    for (row, index) in indices.enumerated() {
        let image = Array(images.pixels[(784 * index)..<(784 * (index + 1))])
        let masked: [Bool] = (0..<784).map { pixel in
            let (y, x) = (pixel / 28, pixel % 28)
            return mask.isMasked[row][(y / 4) * 7 + x / 4]
        }
        let maskImage: [Float] = masked.map { $0 ? 1 : 0 }
        let studentView: [Float] = zip(image, masked).map { value, isMasked in isMasked ? 1.2 : value }
        grids += [image, maskImage, studentView]
        let count = mask.isMasked[row].filter { $0 }.count
        titles += ["digit \(images.labels[index])", "mask: \(count) of 49", "student input"]
    }
    return (grids, titles)
}

/// Batches of indices that walk through a list in random order: when fewer than a batch remain, the list
/// is reshuffled and the walk starts again (every index is seen once per pass, as with epochs).
struct ShuffledBatches {
    private var order: [Int]
    private var cursor: Int
    let size: Int

    init(_ order: [Int], size: Int, shuffleBeforeFirstBatch: Bool = true) {
        self.order = order
        self.size = min(size, order.count)
        cursor = shuffleBeforeFirstBatch ? order.count : 0
    }

    mutating func next(using rng: inout RandomGenerator) -> [Int] {
        if cursor + size > order.count { rng.shuffle(&order); cursor = 0 }
        defer { cursor += size }
        return Array(order[cursor..<(cursor + size)])
    }
}
