// Chapter 08, section 1: the protocol every ablation follows, and the runs it reads. An arm is pretrained once per
// pretraining seed (the same seeds, so the same initializations and data order, for every arm), then frozen and
// read by a linear probe and a nearest-neighbour vote on a few labelled examples. A run is pretrained once and
// shared: the default recipe is an arm of every ablation.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN

/// What every modality's settings say about the protocol.
protocol AblationSettings {
    associatedtype FrontEndConfiguration: Equatable
    var recipe: PretrainingRecipe<FrontEndConfiguration> { get set }
    var grid: Grid { get set }
    var pretrainingSeeds: Int { get set }
    var evaluationSeeds: Int { get set }
    /// The settings of a run of seconds.
    mutating func makeQuick()
    /// "20-NN", "1-NN".
    var neighbourName: String { get }
    /// The arms of the headline grid, by ablation key.
    var headlineArms: [String: [String]] { get }
}

/// One arm pretrained with one seed, and what the frozen probes read from it.
struct ArmRun<Configuration: Equatable> {
    var recipe: PretrainingRecipe<Configuration>
    var seed: Int
    var seconds: Double
    /// The collapse monitor after warm-up: the lowest target variance (chapter 04).
    var lowestTargetVariance: Float
    /// Per draw of the labelled examples.
    var scores: ArmScores
}

/// Pretrains and scores recipes on demand, once per (recipe, seed): the arms that are the default recipe in several
/// ablations share their runs.
final class RunBook<FrontEnd: ConfiguredFrontEnd> where FrontEnd.Configuration: Equatable {
    typealias Recipe = PretrainingRecipe<FrontEnd.Configuration>
    let data: AblationData<FrontEnd>
    let seeds: Int
    let baseSeed: UInt64
    private(set) var runs: [ArmRun<FrontEnd.Configuration>] = []
    private(set) var pretrainingSeconds = 0.0

    init(data: AblationData<FrontEnd>, seeds: Int, baseSeed: UInt64) {
        self.data = data
        self.seeds = seeds
        self.baseSeed = baseSeed
    }

    /// The runs of each recipe, one per pretraining seed. The runs not yet made are pretrained side by side, one
    /// per core (`mapSideBySide`: each owns its model and generator, so the core that runs it changes nothing).
    func runs(of recipes: [(recipe: Recipe, label: String)]) throws -> [[ArmRun<FrontEnd.Configuration>]] {
        var pending: [(recipe: Recipe, label: String, seed: Int)] = []
        for (recipe, label) in recipes {
            for seed in 0..<seeds where !runs.contains(where: { $0.recipe == recipe && $0.seed == seed })
                && !pending.contains(where: { $0.recipe == recipe && $0.seed == seed }) {
                pending.append((recipe, label, seed))
            }
        }
        let made = try pending.mapSideBySide { try pretrainAndScore($0.recipe, seed: $0.seed, label: $0.label) }
        runs += made
        pretrainingSeconds += made.map(\.seconds).reduce(0, +)
        return recipes.map { recipe, _ in
            (0..<seeds).map { seed in runs.first { $0.recipe == recipe && $0.seed == seed }! }
        }
    }

    private func pretrainAndScore(_ recipe: Recipe, seed: Int, label: String) throws -> ArmRun<FrontEnd.Configuration> {
        var rng = RandomGenerator(seed: baseSeed &+ UInt64(seed))
        let backbone = Backbone<FrontEnd>(frontEnd: recipe.frontEnd, encoder: recipe.encoder, using: &rng)
        let trainer = Data2VecTrainer(frontEnd: backbone.frontEnd, student: backbone.encoder, config: recipe.data2vec,
                                      optimization: recipe.optimization, totalSteps: recipe.steps,
                                      headInitializer: recipe.encoder.initializer, using: &rng)
        let nextIndices = data.batches(recipe.batchSize)
        let warmup = Int(recipe.optimization.warmupFraction * Float(recipe.steps))
        var (lowestTarget, lastLoss) = (Float.infinity, Float.nan)
        let start = Date()
        for step in 1...recipe.steps {
            let batch = data.batch(nextIndices(&rng), &rng)
            let metrics = trainer.step(batch, using: &rng)
            guard metrics.loss.isFinite else {
                throw ChapterError("\(label), seed \(seed): the pretraining loss became \(metrics.loss) at step \(step). "
                                   + "This arm diverged; run it alone with a lower learning rate to see where.")
            }
            if step > warmup { lowestTarget = min(lowestTarget, metrics.targetVariance) }
            lastLoss = metrics.loss
        }
        let seconds = Date().timeIntervalSince(start)
        let scores = data.score(backbone)
        print(String(format: "    %@, seed %d: %d steps in %@, last loss %.4f, lowest target variance %.3f, probe %.1f%%", label, seed,
                     recipe.steps, formatDuration(seconds), lastLoss, lowestTarget, 100 * mean(scores.validationProbe)))
        fflush(nil)
        return ArmRun(recipe: recipe, seed: seed, seconds: seconds, lowestTargetVariance: lowestTarget,
                      scores: scores)
    }
}

extension Chapter08 {
    /// Section 1: the protocol in words (`introduction`), every arm's one change, and the band of the target-context arms.
    func protocolSection<FrontEnd: ConfiguredFrontEnd>(_ chapter: Chapter, recipe r: PretrainingRecipe<FrontEnd.Configuration>, introduction: String,
                                                       _ data: AblationData<FrontEnd>, ablations: [Ablation<PretrainingRecipe<FrontEnd.Configuration>>])
    where FrontEnd.Configuration: Equatable {
        chapter.section("1. One field at a time, over seeds")
        chapter.say(introduction)
        print("  the arms (each is the configuration above with the one field shown changed):")
        for ablation in ablations {
            for arm in ablation.arms {
                let changed = differences(from: r, to: arm.recipe(from: r))
                let marks = [arm.label == ablation.defaultArm ? "the default" : nil, arm.label == ablation.paperChoice ? "the paper's" : nil]
                    .compactMap { $0 }.joined(separator: ", ")
                print("  " + "\(ablation.name): \(arm.label)\(marks.isEmpty ? "" : " (\(marks))")".padding(toLength: 64, withPad: " ", startingAt: 0)
                      + (changed.isEmpty ? "no change" : changed.joined(separator: "; ")))
            }
        }
        let oneField = ablations.allSatisfy { ablation in
            ablation.arms.allSatisfy { differences(from: r, to: $0.recipe(from: r)).count == ($0.label == ablation.defaultArm ? 0 : 1) }
        }
        chapter.check(oneField, "every arm differs from the default recipe in exactly one field, and each ablation's default arm in none")
        print()
        let words = data.words
        chapter.say("""
            The target-context arms restrict the teacher's self-attention (Sources/NN/LocalAttention.swift): \(words.window), \
            through a band of -1e9 added to the attention scores; the student keeps the whole \(words.example). \
            One teacher block shows it:
            """)
        var rng = RandomGenerator(seed: options.seed.derived("band demonstration"))
        let backbone = Backbone<FrontEnd>(frontEnd: r.frontEnd, encoder: r.encoder, using: &rng)
        backbone.eval()
        let (input, _) = backbone.frontEnd.unmaskedInput(data.batch([0, 1], &rng))
        let coordinates = backbone.frontEnd.positionCoordinates(count: input.shape[1])
        let band = localAttentionBias(coordinates: coordinates, radius: 1)
        let restricted = backbone.encoder(input, attentionBias: band, returnAttentionWeights: true).blocks[0].attentionWeights!
        let outside = (0..<restricted.count).filter { band.storage.pointer[$0 % band.count] != 0 }.map { restricted.storage.pointer[$0] }
        let reach = coordinates.map { a in coordinates.filter { b in zip(a!, b!).allSatisfy { abs($0 - $1) <= 1 } }.count }
        print("  radius 1: a \(words.unit) attends to \(reach.min()!)-\(reach.max()!) of the \(coordinates.count) \(words.units) (fewer at the border); "
              + "largest weight outside the window \(outside.max() ?? 0)")
        let span = coordinates.compactMap { $0 }.flatMap { $0 }.max() ?? 0
        let whole = localAttentionBias(coordinates: coordinates, radius: span)
        let unrestricted = backbone.encoder(input).output, covered = backbone.encoder(input, attentionBias: whole).output
        let windowName = coordinates.first??.count == 2 ? "3 x 3 window" : "window of 3"
        chapter.check(outside.allSatisfy { $0 == 0 }, "with radius 1, no \(words.unit) gives any weight to a \(words.unit) outside its \(windowName)")
        chapter.check(unrestricted.scalars == covered.scalars,
                      "a radius covering the whole \(coordinates.first??.count == 2 ? "grid" : "input") (\(span)) gives exactly the unrestricted teacher's output")
    }

    /// The configuration lines of `changed` that differ from `base`'s, as "field: old -> new".
    func differences<Configuration: Equatable>(from base: PretrainingRecipe<Configuration>, to changed: PretrainingRecipe<Configuration>) -> [String] {
        zip(configurationLines(base), configurationLines(changed)).compactMap { old, new in
            guard old != new, let equals = new.range(of: " = ") else { return nil }
            return "\(new[..<equals.lowerBound]): \(old[equals.upperBound...]) -> \(new[equals.upperBound...])"
        }
    }
}
