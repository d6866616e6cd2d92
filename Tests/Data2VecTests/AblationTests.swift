// The ablations of chapter 08 (Sources/Data2Vec/Ablations.swift): every arm is one field away from the default
// recipe; each target type picks the block output PyTorch computes for it; a teacher restricted to a window that
// covers the input is the unrestricted teacher; the paper's findings are checked as stated.
import Autograd
import ChapterKit
import Foundation
@testable import Data2Vec
import NN
import Optim
import Testing

@Suite("Ablations")
struct AblationTests {
    var base: VisionRecipe {
        var data2vec = Data2VecConfig(averageTopKLayers: 4, layerwiseTargetNorm: .layer, emaAnnealEndStep: 100)
        data2vec.targetPoint = .endOfBlock
        data2vec.finalTargetNorm = .layer
        data2vec.lossBeta = 2
        data2vec.emaDecay = 0.99
        return VisionRecipe(frontEnd: ImagePatchConfiguration(dimension: 16),
                            encoder: TransformerConfiguration(blockCount: 4, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .preLN),
                            data2vec: data2vec, optimization: AdamWConfiguration(peakLearningRate: 1e-3), steps: 100, batchSize: 8)
    }

    /// The printed configuration lines (what chapter 08 prints at its start) that differ between two recipes.
    func changedLines(_ a: VisionRecipe, _ b: VisionRecipe) -> [String] {
        zip(configurationLines(a), configurationLines(b)).filter { $0 != $1 }.map(\.1)
    }

    @Test func everyArmChangesExactlyOneFieldAndTheDefaultArmNone() {
        let grid = Ablation.visionGrid(base)
        #expect(grid.map(\.key) == ["top-k", "context", "target-type", "normalization", "tau", "masking", "loss"])
        for ablation in grid {
            #expect(ablation.arms.contains { $0.label == ablation.defaultArm }, "\(ablation.name) has no default arm")
            #expect(ablation.arms.contains { $0.label == ablation.paperChoice }, "\(ablation.name) has no arm for the paper's choice")
            #expect(Set(ablation.arms.map(\.label)).count == ablation.arms.count, "\(ablation.name) repeats an arm")
            for arm in ablation.arms {
                let changed = changedLines(base, arm.recipe(from: base))
                #expect(changed.count == (arm.label == ablation.defaultArm ? 0 : 1), "\(ablation.name), \(arm.label): \(changed)")
            }
        }
    }

    @Test func everySpeechArmChangesExactlyOneField() {
        var frontEnd = SpeechFrontEndConfiguration(dimension: 16)
        frontEnd.features = .logmel
        let speech = SpeechRecipe(frontEnd: frontEnd,
                                  encoder: TransformerConfiguration(blockCount: 4, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .postLN),
                                  data2vec: Data2VecConfig(averageTopKLayers: 3, layerwiseTargetNorm: .instance, emaAnnealEndStep: 100),
                                  optimization: AdamWConfiguration(peakLearningRate: 1e-3), steps: 100, batchSize: 8)
        let grid = Ablation.speechGrid(speech)
        #expect(grid.map(\.key) == ["top-k", "context", "target-type", "mask-probability", "mask-span", "loss"])
        #expect(grid[2].arms.map(\.label) == ["self-attention", "FFN", "FFN + residual", "end of block"])  // Table 5's four
        #expect(grid[4].arms.map { $0.recipe(from: speech).frontEnd.masking.spanLength } == [10, 20, 30])   // upstream's 5, 10, 15 at 20 ms
        for ablation in grid {
            for arm in ablation.arms {
                let changed = zip(configurationLines(speech), configurationLines(arm.recipe(from: speech))).filter { $0 != $1 }
                #expect(changed.count == (arm.label == ablation.defaultArm ? 0 : 1), "\(ablation.name), \(arm.label): \(changed)")
            }
        }
    }

    @Test func theArmsSetTheirFields() {
        let grid = Dictionary(uniqueKeysWithValues: Ablation.visionGrid(base).map { ($0.key, $0) })
        func arm(_ key: String, _ label: String) -> VisionRecipe { grid[key]!.arms.first { $0.label == label }!.recipe(from: base) }
        #expect(arm("top-k", "K = 2").data2vec.averageTopKLayers == 2)
        #expect(arm("context", "radius 1").data2vec.teacherContextRadius == 1)
        #expect(arm("context", "whole image").data2vec.teacherContextRadius == nil)
        #expect(arm("target-type", "self-attention").data2vec.targetPoint == .selfAttention)
        #expect(arm("tau", "constant 0.99").data2vec.emaSchedule.tau(at: 50) == 0.99)
        #expect(arm("tau", "constant 0.9999").data2vec.emaSchedule.tau(at: 0) == 0.9999)
        #expect(arm("masking", "41%").frontEnd.maskedPatches == 20)     // 40% of 49, rounded
        #expect(arm("loss", "L2").data2vec.lossBeta == 0)
    }

    @Test func findingsAreCheckedAsStated() {
        let means: [String: Float] = ["a": 0.5, "b": 0.6, "c": 0.61]
        #expect(PaperFinding.above(better: "b", worse: "a").holds(means))
        #expect(!PaperFinding.above(better: "a", worse: "b").holds(means))
        #expect(PaperFinding.best("c").holds(means) && !PaperFinding.best("b").holds(means))
        #expect(PaperFinding.worst("a").holds(means) && !PaperFinding.worst("b").holds(means))
        #expect(!PaperFinding.withinPoints(10).holds(means) && PaperFinding.withinPoints(12).holds(means))
        #expect(!PaperFinding.above(better: "x", worse: "a").holds(means))  // a missing arm never holds
        // Keeping a subset of arms drops the findings about the arms left out.
        let context = Ablation.visionGrid(base)[1].keeping(["radius 1", "whole image"])
        #expect(context.arms.map(\.label) == ["radius 1", "whole image"])
        #expect(context.findings.count == 1)  // "whole image the best"; "above radius 0" needs radius 0
    }

    /// Table 5's four target types, picked by `TargetBuilder` from a post-LN block whose weights and outputs come
    /// from PyTorch (Tests/NNTests/Fixtures/make_fixtures.py, `block_postLN`): self-attention output, FFN output,
    /// FFN output plus the residual (before the last LayerNorm), and the end of the block.
    @Test func eachTargetTypePicksTheTensorPyTorchComputes() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NNTests/Fixtures/fixtures.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let f = (root["cases"] as! [String: Any])["block_postLN"] as! [String: Any]
        func tensor(_ object: Any?) -> Tensor {
            let o = object as! [String: Any]
            return Tensor(shape: o["shape"] as! [Int], (o["values"] as! [Double]).map(Float.init))
        }
        var rng = RandomGenerator(seed: 0)
        let block = TransformerBlock(dimension: 8, headCount: 2, feedForwardDimension: 16, placement: .postLN, using: &rng)
        let named = Dictionary(uniqueKeysWithValues: block.namedParameters.map { ($0.name, $0.tensor) })
        for (name, value) in (f["params"] as! [String: Any]).mapValues(tensor) {
            named[name]!.storage.pointer.update(from: value.storage.pointer, count: value.count)
        }
        let record = Tensor.withoutGradients { block(tensor(f["x"]), keyPaddingMask: tensor(f["padding"])) }
        let expected: [TargetPoint: String] = [.selfAttention: "selfAttention", .feedForward: "feedForward",
                                               .feedForwardAndResidual: "feedForwardAndResidual", .endOfBlock: "output"]
        #expect(Set(expected.keys) == Set(TargetPoint.allCases))
        for (point, key) in expected {
            let target = TargetBuilder(topK: 1, point: point, layerwise: .none)([record])
            let reference = tensor(f[key])
            #expect(target.shape == reference.shape)
            #expect(zip(target.scalars, reference.scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "\(point)")
        }
    }

    /// The teacher-context field reaches the teacher only: a radius covering the 7 x 7 grid gives the very loss of
    /// the unrestricted teacher, a radius of 0 another.
    @Test func aWindowCoveringTheImageIsTheWholeImage() {
        func loss(radius: Int?) -> Float {
            var recipe = base
            recipe.data2vec.teacherContextRadius = radius
            var rng = RandomGenerator(seed: 9)
            let backbone = VisionBackbone(frontEnd: recipe.frontEnd, encoder: recipe.encoder, using: &rng)
            let trainer = Data2VecTrainer(frontEnd: backbone.frontEnd, student: backbone.encoder, config: recipe.data2vec,
                                          optimization: recipe.optimization, totalSteps: recipe.steps, using: &rng)
            let images = Tensor.normal([2, 28, 28], using: &rng)
            return trainer.forward(images, using: &rng).loss.item
        }
        #expect(loss(radius: 6) == loss(radius: nil))
        #expect(loss(radius: 0) != loss(radius: nil))
    }
}
