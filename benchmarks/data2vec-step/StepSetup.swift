// The benchmarked data2vec step, built from the project's own modules (the Data2VecTrainer and the
// layers the chapters use). The configurations and the step are those of the PyTorch script beside
// it (benchmarks/pytorch/data2vec_step.py), so both time identical work:
//   - a random mask with a fixed masked count per sample (vision 29 of 49 patches, text 10 of 64 tokens);
//   - vision: 4x4 patches through Linear(16, D), masked patches replaced by a learned vector;
//     text: Embedding(2048, D), masked ids replaced by the mask id 3; learned positions [T, D] added;
//   - pre-LN blocks without dropout, final LayerNorm; EMA teacher over the blocks and final norm;
//   - targets: mean of the top K blocks' FFN outputs, each layer-normalized without parameters;
//   - Linear head at the masked positions; Smooth L1 summed over channels, mean over masked positions,
//     times 1/sqrt(D); AdamW (lr 1e-3, weight decay 0.05; here on weight matrices only, which costs the same); EMA with tau 0.999.
import Autograd
import Data2Vec
import NN
import Optim

enum Modality: String { case vision, text }

struct BenchConfig {
    let name: String
    let modality: Modality
    let batch, tokens, dimension, blocks, heads, feedForward, topK, masked: Int
    let beta: Float

    static let all = [
        BenchConfig(name: "vision-tiny", modality: .vision, batch: 64, tokens: 49, dimension: 64, blocks: 4, heads: 4,
                    feedForward: 256, topK: 4, masked: 29, beta: 2),
        BenchConfig(name: "vision-small", modality: .vision, batch: 64, tokens: 49, dimension: 256, blocks: 6, heads: 8,
                    feedForward: 1024, topK: 6, masked: 29, beta: 2),
        BenchConfig(name: "text-tiny", modality: .text, batch: 64, tokens: 64, dimension: 64, blocks: 4, heads: 4,
                    feedForward: 256, topK: 4, masked: 10, beta: 4),
    ]

    static let vocabularySize = 2048, maskTokenID = 3

    /// Matrix-product FLOPs of one step (2MNK per product): student forward, teacher forward, and the
    /// student's backward (two products per forward product, except that the input embedding needs no dX).
    var flopsPerStep: Double {
        let (b, t, d, f) = (Double(batch), Double(tokens), Double(dimension), Double(feedForward))
        let rows = b * t
        let block = 2 * rows * (3 * d * d + d * d + 2 * d * f) + 2 * 2 * b * t * t * d  // linears + QK^T and AV
        let embedding = modality == .vision ? 2 * rows * 16 * d : 0  // a lookup for text
        let head = 2 * b * Double(masked) * d * d
        let studentForward = embedding + Double(blocks) * block + head
        let teacherForward = Double(blocks) * block
        let studentBackward = 2 * (Double(blocks) * block + head) + embedding
        return studentForward + teacherForward + studentBackward
    }
}

/// Uniformly random positions, exactly `count` of `length` per sample.
func fixedCountMask(batchSize: Int, length: Int, count: Int, using rng: inout RandomGenerator) -> Mask {
    Mask((0..<batchSize).map { _ in
        var row = [Bool](repeating: false, count: length)
        for position in rng.choose(count, from: length) { row[position] = true }
        return row
    })
}

/// Vision: images [B, 28, 28] -> patch embeddings; a learned mask vector; learned positions.
final class PatchFrontEnd: Data2VecFrontEnd {
    let embedding: Linear
    let maskEmbedding: Tensor
    let positions: Tensor
    let maskedCount: Int
    var isTraining = true

    init(_ config: BenchConfig, using rng: inout RandomGenerator) {
        embedding = Linear(16, config.dimension, using: &rng)
        maskEmbedding = Tensor.normal([config.dimension], std: 0.02, using: &rng, requiresGradient: true)
        positions = Tensor.normal([config.tokens, config.dimension], std: 0.02, using: &rng, requiresGradient: true)
        maskedCount = config.masked
    }

    var ownParameters: [(name: String, tensor: Tensor)] { [("maskEmbedding", maskEmbedding), ("positions", positions)] }
    var submodules: [(name: String, module: any Module)] { [("embedding", embedding)] }

    func inputs(for images: Tensor, using rng: inout RandomGenerator) -> Data2VecInputs {
        let features = embedding(patchify(images, patchSize: 4))
        let mask = fixedCountMask(batchSize: images.shape[0], length: features.shape[1], count: maskedCount, using: &rng)
        return Data2VecInputs(student: Tensor.where(mask.tensor, maskEmbedding, features) + positions,
                              teacher: Tensor.withoutGradients { features.detached() + positions }, mask: mask)
    }

    func unmaskedInput(_ images: Tensor) -> (input: Tensor, validLengths: [Int]?) { (embedding(patchify(images, patchSize: 4)) + positions, nil) }
}

/// Text: token ids [B][T] -> embeddings; masked ids replaced by the mask id; learned positions.
final class TokenFrontEnd: Data2VecFrontEnd {
    let embedding: Embedding
    let positions: Tensor
    let maskedCount: Int
    var isTraining = true

    init(_ config: BenchConfig, using rng: inout RandomGenerator) {
        embedding = Embedding(count: BenchConfig.vocabularySize, dimension: config.dimension, using: &rng)
        positions = Tensor.normal([config.tokens, config.dimension], std: 0.02, using: &rng, requiresGradient: true)
        maskedCount = config.masked
    }

    var ownParameters: [(name: String, tensor: Tensor)] { [("positions", positions)] }
    var submodules: [(name: String, module: any Module)] { [("embedding", embedding)] }

    func inputs(for ids: [[Int]], using rng: inout RandomGenerator) -> Data2VecInputs {
        let shape = [ids.count, ids[0].count]
        let mask = fixedCountMask(batchSize: ids.count, length: shape[1], count: maskedCount, using: &rng)
        let masked = zip(ids, mask.isMasked).flatMap { row, isMasked in zip(row, isMasked).map { $1 ? BenchConfig.maskTokenID : $0 } }
        return Data2VecInputs(student: embedding(masked, shape: shape) + positions,
                              teacher: Tensor.withoutGradients { embedding(ids.flatMap { $0 }, shape: shape) + positions }, mask: mask)
    }

    func unmaskedInput(_ ids: [[Int]]) -> (input: Tensor, validLengths: [Int]?) {
        (embedding(ids.flatMap { $0 }, shape: [ids.count, ids[0].count]) + positions, nil)
    }
}

/// A trainer for `config` and one step function over a fixed random batch.
func makeStep(_ config: BenchConfig, seed: UInt64) -> () -> Float {
    var rng = RandomGenerator(seed: seed)
    var d2v = Data2VecConfig(averageTopKLayers: config.topK, layerwiseTargetNorm: .layer, emaAnnealEndStep: 0)
    d2v.targetPoint = .feedForward
    d2v.finalTargetNorm = .none
    d2v.lossBeta = config.beta
    d2v.emaDecay = 0.999
    d2v.emaEndDecay = 0.999
    let encoder = TransformerConfiguration(blockCount: config.blocks, dimension: config.dimension, headCount: config.heads,
                                           feedForwardDimension: config.feedForward, placement: .preLN)
    // A constant learning rate of 1e-3 (no warm-up, cosine to 100% of the peak).
    let optimization = AdamWConfiguration(peakLearningRate: 1e-3, weightDecay: 0.05, warmupFraction: 0, finalFraction: 1)
    func trainer<F: Data2VecFrontEnd>(_ frontEnd: F) -> Data2VecTrainer<F> {
        Data2VecTrainer(frontEnd: frontEnd, student: TransformerEncoder(encoder, using: &rng), config: d2v, optimization: optimization,
                        totalSteps: 1_000_000, using: &rng)
    }
    switch config.modality {
    case .vision:
        let images = Tensor.normal([config.batch, 28, 28], using: &rng)
        let t = trainer(PatchFrontEnd(config, using: &rng))
        return { t.step(images, using: &rng).loss }
    case .text:
        let ids = (0..<config.batch).map { _ in (0..<config.tokens).map { _ in 4 + rng.int(below: BenchConfig.vocabularySize - 4) } }
        let t = trainer(TokenFrontEnd(config, using: &rng))
        return { t.step(ids, using: &rng).loss }
    }
}
