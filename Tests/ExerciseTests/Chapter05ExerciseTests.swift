// The answer key of chapter 05's exercises: the part of each answer that can be checked in seconds.
import Autograd
import Foundation
@testable import Data2Vec
@testable import Datasets
import NN
import Testing

@Suite("Chapter 05 exercises")
struct Chapter05ExerciseTests {
    /// Exercise 1 (--top-k 1): vision's target with K = 1 is the last block's output, layer-normalized, then
    /// layer-normalized again (which changes nothing: it is already normalized).
    @Test func exercise1_topOneTargetIsTheLastBlockNormalized() {
        var rng = RandomGenerator(seed: 51)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 4, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .preLN), using: &rng)
        let blocks = Tensor.withoutGradients { encoder(Tensor.normal([2, 5, 8], using: &rng), recordBlocks: true).blocks }
        let target = TargetBuilder(topK: 1, point: .endOfBlock, layerwise: .layer, final: .layer)(blocks)
        let expected = blocks[3].output.layerNorm().scalars
        #expect(zip(target.scalars, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    /// The sizes of the connected masked regions of a 7 x 7 mask (4-neighbourhood).
    func regionSizes(_ mask: [Bool], side: Int = 7) -> [Int] {
        var seen = [Bool](repeating: false, count: mask.count), sizes: [Int] = []
        for start in mask.indices where mask[start] && !seen[start] {
            var stack = [start], size = 0
            seen[start] = true
            while let cell = stack.popLast() {
                size += 1
                let (r, c) = (cell / side, cell % side)
                for (dr, dc) in [(0, 1), (1, 0), (0, -1), (-1, 0)] {
                    let (nr, nc) = (r + dr, c + dc)
                    guard nr >= 0, nr < side, nc >= 0, nc < side else { continue }
                    let next = nr * side + nc
                    if mask[next] && !seen[next] { seen[next] = true; stack.append(next) }
                }
            }
            sizes.append(size)
        }
        return sizes
    }

    /// Exercise 2 (--minimum-block 1): with blocks as small as one patch, the mask breaks into more, smaller
    /// regions, so more masked patches have a visible neighbour to copy from.
    @Test func exercise2_minimumBlockOneScattersTheMask() {
        var rng = RandomGenerator(seed: 52)
        func regions(minimumBlock: Int) -> Double {
            let masks = BlockMasking(rows: 7, columns: 7, targetCount: 29, minimumBlock: minimumBlock)(batchSize: 300, using: &rng)
            return Double(masks.isMasked.map { regionSizes($0).count }.reduce(0, +)) / 300
        }
        let (blocks, scattered) = (regions(minimumBlock: 4), regions(minimumBlock: 1))
        #expect(scattered > blocks)
    }

    /// Exercise 3 (--target feed-forward): in a pre-LN block the end of the block is the residual stream plus
    /// the FFN output, so the FFN target leaves out everything the stream already carried.
    @Test func exercise3_preLNBlockOutputIsTheStreamPlusTheFeedForwardOutput() {
        var rng = RandomGenerator(seed: 53)
        let block = TransformerBlock(dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .preLN, using: &rng)
        let x = Tensor.normal([2, 5, 8], using: &rng)
        let out = Tensor.withoutGradients { block(x) }
        let stream = Tensor.withoutGradients { x + out.selfAttention }
        let rebuilt = (stream + out.feedForward).scalars
        #expect(zip(out.output.scalars, rebuilt).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// Exercise 4 (--pretrained with a checkpoint pretrained on the test images): each checkpoint records the
    /// FNV-1a fingerprint of the images it was pretrained on, and the chapter compares it with the test images'
    /// (`checkProvenance` in chapters/05-vision/2-Pretraining.swift): the same file gives the same fingerprint;
    /// a test set that shares images with the pretraining set is found image by image. The chapter's run on a
    /// data folder whose test file is the training file refuses before any work.
    @Test func exercise4_aCheckpointPretrainedOnTheTestImagesIsFound() throws {
        var rng = RandomGenerator(seed: 54)
        let train = MNIST(pixels: (0..<(30 * 784)).map { _ in rng.uniform() }, labels: (0..<30).map { $0 % 10 })
        let testIsTrain = MNIST(pixels: train.pixels, labels: train.labels)
        let overlapping = train.subset([3, 1, 4, 15, 9])
        let fresh = MNIST(pixels: (0..<(5 * 784)).map { _ in rng.uniform() }, labels: (0..<5).map { $0 })
        #expect(testIsTrain.fingerprint == train.fingerprint)
        #expect(overlapping.fingerprint != train.fingerprint && fresh.fingerprint != train.fingerprint)
        let seen = Set(train.imageFingerprints())
        #expect(overlapping.imageFingerprints().filter(seen.contains).count == 5)
        #expect(fresh.imageFingerprints().filter(seen.contains).isEmpty)

        let log = try ExerciseLog("exercises/ch05-test-is-train")
        let refusal = try #require(log.lines(containing: "Error:").first)
        #expect(refusal.contains("pretrained/ch05-vision/seed0.safetensors") && refusal.contains("test images"))
        #expect(log.lines(containing: "## 3.").isEmpty)   // refused before the evaluation
    }

    /// Exercises 1-3 as chapters/05-vision/README.md states them, on results/trials/ch05-choices.txt: each run
    /// of the chapter's short pretraining (validation split) with one setting changed, probed with 100 labels.
    @Test func exercises1to3_theTrialRunsShowWhatTheREADMESays() throws {
        let log = try ExerciseLog("trials/ch05-choices")
        /// The linear probe's mean of the run whose header is `### <flags>`.
        func probe(_ flags: String) throws -> Double {
            let runs = log.text.components(separatedBy: "### ").dropFirst()
            let run = try #require(runs.first { $0.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) == flags })
            let line = try #require(run.split(separator: "\n").first { $0.contains("short run: linear probe") })
            return try #require(log.numbers(in: String(line)).first)
        }
        let recipe = try probe("")
        #expect(try probe("--top-k 1") < recipe - 2)               // 1: worse
        #expect(abs(try probe("--minimum-block 1") - recipe) < 5)   // 2: inside the draws' spread
        #expect(try probe("--target feed-forward") < recipe - 5)   // 3: much worse
    }
}
