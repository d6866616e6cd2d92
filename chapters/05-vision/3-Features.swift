// Chapter 05, section 3: the features of the pretrained and of a random backbone, and a look at them (PCA).
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Plot

/// A backbone's frozen features of a set of images, computed once in evaluation mode, all [N, *]:
/// - `pooled`: the last block's output averaged over the 49 patches, [N, D] (what the probe and BEiT's
///   classifier read);
/// - `blocks`: each block's output averaged over the patches, [N, D] each;
/// - `patches`: the last block's 49 patch vectors side by side, [N, 49 D] (nothing averaged away).
struct FrozenFeatures {
    var blocks: [Tensor]
    var patches: Tensor
    var pooled: Tensor { blocks.last! }

    init(_ backbone: VisionBackbone, _ data: MNIST, batchSize: Int = 250) {
        backbone.eval()
        var blocks: [[Tensor]] = Array(repeating: [], count: backbone.encoder.blocks.count)
        var patches: [Tensor] = []
        for indices in chunks(Array(0..<data.count), size: batchSize) {
            Tensor.withoutGradients {
                let encoded = backbone.encode(data.batch(indices).images, recordBlocks: true)
                for (i, record) in encoded.blocks.enumerated() { blocks[i].append(record.output.mean(alongAxes: [1])) }
                patches.append(encoded.lastBlockOutput.reshaped([indices.count, -1]))
            }
        }
        self.blocks = blocks.map { Tensor.concatenate($0, along: 0) }
        self.patches = Tensor.concatenate(patches, along: 0)
    }
}

/// The two backbones the evaluation compares, and their frozen features of the training and test images.
struct Backbones {
    var checkpoint: URL
    var pretrainedTrain: FrozenFeatures, pretrainedTest: FrozenFeatures
    var randomTrain: FrozenFeatures, randomTest: FrozenFeatures

    /// A fresh copy of the pretrained backbone, read from the checkpoint.
    func pretrained(_ config: VisionConfig, using rng: inout RandomGenerator) throws -> VisionBackbone {
        let backbone = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        try Checkpoint.load(checkpoint, into: backbone)
        return backbone
    }
}

extension Chapter05 {
    func frozenFeatures(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, test: MNIST, checkpoint: URL) throws -> Backbones {
        chapter.section("3. The features, before and after (PCA)")
        var rng = RandomGenerator(seed: options.seed &+ 100)
        let random = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let pretrained = VisionBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        try Checkpoint.load(checkpoint, into: pretrained)
        let (backbones, seconds) = measure {
            Backbones(checkpoint: checkpoint, pretrainedTrain: FrozenFeatures(pretrained, train), pretrainedTest: FrozenFeatures(pretrained, test),
                      randomTrain: FrozenFeatures(random, train), randomTest: FrozenFeatures(random, test))
        }
        print("  features of \(train.count + test.count) images from both backbones in \(formatDuration(seconds))")
        chapter.say("""
            Each image becomes one vector: the mean of the last block's 49 output vectors (BEiT pools the raw \
            residual stream; its classifier then applies its own LayerNorm). Below, the test images' vectors \
            projected onto their first two principal directions, for a randomly initialized encoder and for the \
            pretrained one, coloured by digit.
            """)
        for (name, features, title) in [("before", backbones.randomTest.pooled, "random initialization"),
                                         ("after", backbones.pretrainedTest.pooled, "after data2vec")] {
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
        return backbones
    }
}
