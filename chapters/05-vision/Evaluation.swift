// Chapter 05, sections 4-6: how good are the representations? Linear probes and fine-tuning against
// baselines (BEiT's evaluation head: mean-pooled patch vectors -> LayerNorm -> Linear, spec B.2), and a
// 2-D projection of the features.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation
import NN
import Optim

/// The part data2vec pretrains and the checkpoint holds: the patch front end and the encoder.
final class VisionBackbone: Module {
    let frontEnd: ImagePatchFrontEnd
    let encoder: TransformerEncoder
    var isTraining = true

    init(frontEnd: ImagePatchFrontEnd, encoder: TransformerEncoder) {
        self.frontEnd = frontEnd
        self.encoder = encoder
    }

    convenience init(_ config: VisionConfig, using rng: inout RandomGenerator) {
        self.init(frontEnd: ImagePatchFrontEnd(dimension: config.dimension, using: &rng), encoder: makeEncoder(config, using: &rng))
    }

    var submodules: [(name: String, module: any Module)] { [("frontEnd", frontEnd), ("encoder", encoder)] }

    /// Mean-pooled encoder output (after the final LayerNorm) over the 49 patches: [B, D].
    func features(_ images: Tensor) -> Tensor {
        encoder(frontEnd.encoderInput(images)).output.mean(alongAxes: [1])
    }
}

/// An image classifier: a backbone, then LayerNorm + Linear on its mean-pooled features (BEiT's
/// fine-tuning head, `fc_norm` + `head`).
final class Classifier: Module {
    let backbone: VisionBackbone
    let norm: LayerNorm
    let output: Linear
    var isTraining = true

    init(backbone: VisionBackbone, dimension: Int, using rng: inout RandomGenerator) {
        self.backbone = backbone
        norm = LayerNorm(dimension)
        output = Linear(dimension, 10, initializer: .truncatedNormal(std: 0.02), using: &rng)
    }

    var submodules: [(name: String, module: any Module)] { [("backbone", backbone), ("norm", norm), ("output", output)] }

    func callAsFunction(_ images: Tensor) -> Tensor { output(norm(backbone.features(images))) }
}

/// Trains LayerNorm + Linear on frozen features of the `labelled` images (AdamW, lr 1e-2 with warm-up and
/// cosine decay, 30 epochs but at least 100 steps, batch 64); returns the test accuracy.
func linearProbe(trainFeatures: Tensor, trainLabels: [Int], labelled: [Int], testFeatures: Tensor, testLabels: [Int],
                 epochs: Int = 30, seed: UInt64) -> Float {
    var rng = RandomGenerator(seed: seed)
    let d = trainFeatures.shape[1]
    let norm = LayerNorm(d), linear = Linear(d, 10, using: &rng)
    let named = norm.namedParameters.map { ("norm." + $0.name, $0.tensor) } + linear.namedParameters.map { ("linear." + $0.name, $0.tensor) }
    let steps = max(100, epochs * labelled.count / 64)
    let optimizer = AdamW(ParameterGroup.standard(named, weightDecay: 1e-4), learningRate: 1e-2)
    let schedule = WarmupCosineSchedule(peak: 1e-2, warmupSteps: steps / 20, totalSteps: steps)
    var batches = ShuffledBatches(labelled, size: 64)
    for step in 0..<steps {
        let batch = batches.next(using: &rng)
        optimizer.learningRate = schedule.learningRate(at: step)
        let loss = Loss.crossEntropy(logits: linear(norm(trainFeatures.indexSelect(batch, along: 0))), labels: batch.map { trainLabels[$0] })
        loss.backward()
        optimizer.step()
        optimizer.zeroGradients()
    }
    return accuracy(logits: Tensor.withoutGradients { linear(norm(testFeatures)) }, labels: testLabels)
}

/// Trains the whole classifier on the `labelled` images for `steps` steps (AdamW, lr 1e-3 with warm-up and
/// cosine decay, weight decay 0.05, batch 64); returns the test accuracy.
func fineTune(_ model: Classifier, train: MNIST, labelled: [Int], test: MNIST, steps: Int, seed: UInt64) -> Float {
    var rng = RandomGenerator(seed: seed)
    model.train()
    let optimizer = AdamW(ParameterGroup.standard(model.namedParameters, weightDecay: 0.05), learningRate: 1e-3)
    let schedule = WarmupCosineSchedule(peak: 1e-3, warmupSteps: steps / 10, totalSteps: steps)
    var batches = ShuffledBatches(labelled, size: 64)
    for step in 0..<steps {
        optimizer.learningRate = schedule.learningRate(at: step)
        let (images, labels) = train.batch(batches.next(using: &rng))
        let loss = Loss.crossEntropy(logits: model(images), labels: labels)
        loss.backward()
        optimizer.step()
        optimizer.zeroGradients()
    }
    model.eval()
    let logits = stride(from: 0, to: test.count, by: 250).map { start in
        Tensor.withoutGradients { model(test.batch(Array(start..<min(start + 250, test.count))).images) }
    }
    return accuracy(logits: Tensor.concatenate(logits, along: 0), labels: test.labels)
}

/// The fraction of rows of `logits` [N, 10] whose largest entry is at the label.
func accuracy(logits: Tensor, labels: [Int]) -> Float {
    let values = logits.scalars
    var correct = 0
    for (row, label) in labels.enumerated() {
        let scores = values[(row * 10)..<(row * 10 + 10)]
        if scores.indices.max(by: { scores[$0] < scores[$1] })! - scores.startIndex == label { correct += 1 }
    }
    return Float(correct) / Float(labels.count)
}

/// The top two principal directions of the rows of `features` [N, D] (power iteration with deflation on
/// the D x D covariance), and each row's coordinates along them: [N] and [N].
func principalComponents(_ features: Tensor) -> (first: [Double], second: [Double]) {
    let (n, d) = (features.shape[0], features.shape[1])
    let centered = features - features.mean(alongAxes: [0], keepingDimensions: true)
    let covariance = Tensor.matmul(centered, centered, transposeA: true).scalars.map { Double($0) / Double(n) }  // [D, D]
    var directions: [[Double]] = []
    for _ in 0..<2 {
        var v = (0..<d).map { Double($0 % 7) - 3 }  // a fixed, generic start
        for _ in 0..<200 {
            var next = (0..<d).map { i in (0..<d).reduce(0) { $0 + covariance[i * d + $1] * v[$1] } }
            for u in directions {  // remove the directions already found
                let overlap = zip(next, u).reduce(0) { $0 + $1.0 * $1.1 }
                next = zip(next, u).map { $0 - overlap * $1 }
            }
            let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = next.map { $0 / max(norm, 1e-30) }
        }
        directions.append(v)
    }
    let x = centered.scalars
    func project(_ u: [Double]) -> [Double] { (0..<n).map { r in (0..<d).reduce(0) { $0 + Double(x[r * d + $1]) * u[$1] } } }
    return (project(directions[0]), project(directions[1]))
}

/// Frozen features of every image, computed once in evaluation mode, all [N, *]:
/// - `pooled`: the final output (after the final LayerNorm) averaged over the 49 patches, [N, D], what the
///   probes and BEiT's fine-tuning head use;
/// - `blocks`: each block's output (the residual stream) averaged over the patches, [N, D] each;
/// - `patches`: the final output's 49 patch vectors side by side, [N, 49 D] (nothing averaged away).
struct FrozenFeatures {
    var pooled: Tensor
    var blocks: [Tensor]
    var patches: Tensor

    init(_ backbone: VisionBackbone, _ data: MNIST, batchSize: Int = 250) {
        backbone.eval()
        var blocks: [[Tensor]] = Array(repeating: [], count: backbone.encoder.blocks.count)
        var patches: [Tensor] = []
        for start in stride(from: 0, to: data.count, by: batchSize) {
            Tensor.withoutGradients {
                let images = data.batch(Array(start..<min(start + batchSize, data.count))).images
                let (output, records) = backbone.encoder(backbone.frontEnd.encoderInput(images), recordBlocks: true)
                for (i, record) in records.enumerated() { blocks[i].append(record.output.mean(alongAxes: [1])) }
                patches.append(output.reshaped([images.shape[0], -1]))
            }
        }
        self.blocks = blocks.map { Tensor.concatenate($0, along: 0) }
        self.patches = Tensor.concatenate(patches, along: 0)
        let d = self.blocks[0].shape[1]
        pooled = self.patches.reshaped([data.count, -1, d]).mean(alongAxes: [1])
    }
}
