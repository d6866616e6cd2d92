// Chapter 04, section 3: building a target from the teacher's top K blocks.
import Autograd
import ChapterKit
import Data2Vec
import Foundation
import NN

extension Chapter04 {
    func targetConstruction(_ chapter: Chapter, _ config: Data2VecChapterConfig) {
        chapter.section("3. Building a target from the teacher's top K blocks")
        chapter.say("""
            The teacher encodes the unmasked input. From each of its top K blocks we take one output: for speech \
            and text the FFN output before the block's last residual connection (paper footnote 5), for vision the \
            end of the block, the residual stream (data2vec vision's `--layer_results end`). Each is normalized \
            without learned parameters (speech: instance norm over time, per channel; text and vision: layer norm \
            over the channels, per position), and the K results are averaged; vision normalizes the average once \
            more. Without the normalization, blocks whose outputs are large would dominate the average. Here: a \
            random 4-block post-LN encoder on 2 smooth signals, FFN outputs, instance norm, K = \(config.topK).
            """)
        var rng = RandomGenerator(seed: chapter.options.seed.derived("targets"))
        var encoderConfig = config.collapseEncoder
        encoderConfig.inputLayerNorm = false
        let encoder = TransformerEncoder(encoderConfig, using: &rng)
        encoder.eval()
        // Give the blocks different scales, as trained networks have.
        for (i, block) in encoder.blocks.enumerated() { let w = block.fc2.weight; for j in 0..<w.count { w.storage.pointer[j] *= Float(1 << i) } }
        let x = sinusoidBatch(batch: 2, length: 40, features: encoderConfig.dimension, using: &rng)
        let blocks = Tensor.withoutGradients { encoder(x, recordBlocks: true).blocks }
        let raw = blocks.map { $0.feedForward.variance().item.squareRoot() }
        let normalized = blocks.map { instanceNorm($0.feedForward).variance().item.squareRoot() }
        print("  std of each block's FFN output:        " + raw.map { String(format: "%7.3f", $0) }.joined())
        print("  after instance norm over time:         " + normalized.map { String(format: "%7.3f", $0) }.joined())
        let target = TargetBuilder(topK: config.topK, layerwise: .instance)(blocks)
        print("  target: shape \(target.shape), the average of the top \(config.topK) normalized blocks")
        chapter.check(raw.max()! > 4 * raw.min()! && normalized.allSatisfy { abs($0 - 1) < 0.01 },
                      "blocks differ in scale by more than 4x; after normalization each has unit scale and counts equally")
    }
}
