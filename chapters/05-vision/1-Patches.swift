// Chapter 05, section 1: MNIST as a sequence of 49 patches, and the block masks the student sees.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Foundation
import Plot

extension Chapter05 {
    func loadData(_ chapter: Chapter) throws -> (train: MNIST, test: MNIST) {
        let directory = URL(fileURLWithPath: options.dataDir)
        return (try MNIST(directory: directory, split: .train), try MNIST(directory: directory, split: .test))
    }

    func patchesAndMasks(_ chapter: Chapter, _ config: VisionConfig, train: MNIST) throws {
        chapter.section("1. MNIST as a sequence of 49 patches")
        let grid = config.frontEnd.grid, patch = config.frontEnd.patchSize
        chapter.say("""
            \(train.count) training digits from \(options.dataDir)/vision (28 x 28, pixels standardized with \
            MNIST's mean and std). The front end (Sources/Data2Vec/Vision) cuts each image into a \(grid) x \(grid) \
            grid of \(patch) x \(patch) patches, embeds each patch with one Linear(\(patch * patch), D) (the same as \
            BEiT's stride-\(patch) convolution), and adds fixed 2-D sine-cosine positions. The student sees the \
            masked patches replaced by one learned vector; the teacher sees every patch. Masks are BEiT's blocks \
            (`masking_generator.py`): rectangles of at least \(config.frontEnd.minimumBlock) patches until about \
            \(config.frontEnd.maskedPatches) of the \(grid * grid) are covered, because neighbouring patches of a \
            digit are so alike that masking single patches would turn the task into copying a neighbour.
            """)
        var rng = RandomGenerator(seed: options.seed &+ 1)
        let frontEnd = ImagePatchFrontEnd(config.frontEnd, using: &rng)
        let masks = (0..<20).map { _ in frontEnd.masking(batchSize: config.batchSize, using: &rng) }
        let ratios = masks.map(\.ratio)
        let meanRatio = ratios.reduce(0, +) / Double(ratios.count)
        let target = Double(config.frontEnd.maskedPatches) / Double(grid * grid)
        print(String(format: "  masked fraction over 20 batches of %d: %.1f%% (%.1f%%-%.1f%%), target %d of %d = %.1f%%", config.batchSize,
                     100 * meanRatio, 100 * ratios.min()!, 100 * ratios.max()!, config.frontEnd.maskedPatches, grid * grid, 100 * target))
        chapter.check(abs(meanRatio - target) < 0.05, String(format: "block masking covers its target fraction of the patches to within 5 points (%.1f%%)", 100 * meanRatio))

        let examples = Array(0..<min(4, train.count))
        let mask = frontEnd.masking(batchSize: examples.count, using: &rng)
        var images: [[Float]] = [], titles: [String] = []
        for (row, index) in examples.enumerated() {
            let image = Array(train.pixels[(784 * index)..<(784 * (index + 1))])
            let masked = (0..<784).map { mask.isMasked[row][((($0 / 28) / patch) * grid) + ($0 % 28) / patch] }
            images += [image, masked.map { $0 ? 1 : 0 }, zip(image, masked).map { $1 ? 1.2 : $0 }]
            titles += ["digit \(train.labels[index])", "mask: \(mask.maskedCounts[row]) of \(grid * grid)", "student input"]
        }
        chapter.figure("05-masked-examples.png") { path throws(PlotError) in
            try ImageGrid.render(images, width: 28, height: 28, columns: 3, titles: titles,
                                 title: "Block masks (white = masked) and what the student sees (masked patches in grey)", to: path)
        }
    }
}
