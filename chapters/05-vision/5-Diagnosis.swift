// Chapter 05, section 5: what limits the linear probe? The same probe, with every label, on other features
// of the same images.
import Autograd
import ChapterKit
import Datasets
import Evaluation
import Foundation

/// One row of the diagnosis: a kind of feature and the probe's test accuracy on it for both backbones.
struct DiagnosisRow {
    var features: String
    var data2vec: Float
    var random: Float
}

extension Chapter05 {
    func diagnosisSection(_ chapter: Chapter, _ config: VisionConfig, train: MNIST, test: MNIST, backbones: Backbones) -> [DiagnosisRow] {
        chapter.section("5. What limits the linear probe?")
        chapter.say("""
            The same probe (LayerNorm + Linear, all \(train.count) labels, seed 0) on other features of the same \
            images. Pixels: no network at all. Block k: the mean over the patches of block k's output (the \
            residual stream). Patches: the last block's 49 vectors side by side (49 x \(config.encoder.dimension) = \
            \(49 * config.encoder.dimension) numbers), so nothing is averaged away.
            """)
        let all = Array(0..<train.count)
        func probe(_ trainFeatures: Tensor, _ testFeatures: Tensor) -> Float {
            probeAccuracy(trainFeatures, testFeatures, train: train, test: test, labelled: all, config: config.probe, seed: 0)
        }
        let pixels = probe(train.batch(all).images.reshaped([train.count, 784]), test.batch(Array(0..<test.count)).images.reshaped([test.count, 784]))
        var rows = [DiagnosisRow(features: "pixels (784 numbers)", data2vec: pixels, random: pixels)]
        for block in 0..<config.encoder.blockCount {
            rows.append(DiagnosisRow(features: "block \(block + 1), mean-pooled (\(config.encoder.dimension))",
                                     data2vec: probe(backbones.pretrainedTrain.blocks[block], backbones.pretrainedTest.blocks[block]),
                                     random: probe(backbones.randomTrain.blocks[block], backbones.randomTest.blocks[block])))
        }
        rows.append(DiagnosisRow(features: "last block's patches, unpooled (\(49 * config.encoder.dimension))",
                                 data2vec: probe(backbones.pretrainedTrain.patches, backbones.pretrainedTest.patches),
                                 random: probe(backbones.randomTrain.patches, backbones.randomTest.patches)))
        print("  features                                   data2vec   random encoder")
        for row in rows {
            print("  " + row.features.padding(toLength: 42, withPad: " ", startingAt: 0)
                  + String(format: " %6.1f%%    %6.1f%%", 100 * row.data2vec, 100 * row.random))
        }
        if !options.quick, let unpooled = rows.last {
            chapter.check(unpooled.data2vec > unpooled.random,
                          String(format: "the pretrained patch vectors are more linearly informative than the random encoder's (%.1f%% vs %.1f%%)",
                                 100 * unpooled.data2vec, 100 * unpooled.random))
        }
        return rows
    }
}
