// Chapter 08, sections 2-8: one section per ablation, all written by one function. Each arm's runs (one per
// pretraining seed) are pretrained, frozen and scored on the validation examples; the table gives the mean over the
// seeds with the range of the seeds' means, the paired difference from the default arm, and the collapse monitor.
import ChapterKit
import Data2Vec
import Foundation
import Plot

/// An ablation and its arms' runs (one per pretraining seed, in the arms' order).
struct MeasuredAblation<Configuration: Equatable> {
    var ablation: Ablation<PretrainingRecipe<Configuration>>
    var runs: [[ArmRun<Configuration>]]

    /// Per arm: the mean over the draws of each seed's run, for one split and method.
    func seedMeans(_ arm: Int, _ score: (ArmScores) -> [Float]) -> [Float] { runs[arm].map { mean(score($0.scores)) } }

    /// Per arm label: the mean over seeds, for one split and method.
    func means(_ score: (ArmScores) -> [Float]) -> [String: Float] {
        Dictionary(uniqueKeysWithValues: ablation.arms.indices.map { (ablation.arms[$0].label, mean(seedMeans($0, score))) })
    }

    /// Per arm: each seed's mean minus the default arm's mean with the same seed.
    func pairedDifferences(_ arm: Int, _ score: (ArmScores) -> [Float]) -> [Float]? {
        guard let base = ablation.arms.firstIndex(where: { $0.label == ablation.defaultArm }) else { return nil }
        return zip(seedMeans(arm, score), seedMeans(base, score)).map { $0 - $1 }
    }
}

extension Chapter08 {
    func ablationSection<Settings: AblationSettings, FrontEnd: ConfiguredFrontEnd>(
        _ chapter: Chapter, _ config: Settings, number: Int, _ ablation: Ablation<PretrainingRecipe<Settings.FrontEndConfiguration>>,
        runs book: RunBook<FrontEnd>) throws -> MeasuredAblation<Settings.FrontEndConfiguration>
    where FrontEnd.Configuration == Settings.FrontEndConfiguration {
        let words = book.data.words
        chapter.section("\(number). \(ablation.name.prefix(1).uppercased() + ablation.name.dropFirst()) (paper \(ablation.source))")
        chapter.say("The paper: \(ablation.paperSays). Here: \(ablation.axis); the arms \(ablation.arms.map(\.label).joined(separator: ", ")).")
        let start = Date()
        let runs = try book.runs(of: ablation.arms.map { ($0.recipe(from: config.recipe), "\(ablation.name): \($0.label)") })
        let measured = MeasuredAblation(ablation: ablation, runs: runs)
        print("  \(ablation.arms.count) arms x \(config.pretrainingSeeds) seeds in \(formatDuration(Date().timeIntervalSince(start))) "
              + "(two at a time; runs shared with earlier sections are not pretrained again)")
        print("  validation \(words.examples), \(words.labels); mean over pretraining seeds (range of the seeds' means); "
              + "minus default: paired by seed")
        print("  " + "arm".padding(toLength: 26, withPad: " ", startingAt: 0) + "linear probe".padding(toLength: 20, withPad: " ", startingAt: 0)
              + config.neighbourName.padding(toLength: 20, withPad: " ", startingAt: 0) + "probe minus default".padding(toLength: 24, withPad: " ", startingAt: 0)
              + "lowest target var")
        for (i, arm) in ablation.arms.enumerated() {
            let probe = measured.seedMeans(i, \.validationProbe), knn = measured.seedMeans(i, \.validationNeighbours)
            let paired = arm.label == ablation.defaultArm ? "(the default)" : measured.pairedDifferences(i, \.validationProbe).map(signedSpread) ?? "-"
            let variance = runs[i].map(\.lowestTargetVariance).min() ?? .nan
            let name = arm.label + (arm.label == ablation.paperChoice ? " *" : "")
            print("  " + name.padding(toLength: 26, withPad: " ", startingAt: 0) + spread(probe).padding(toLength: 20, withPad: " ", startingAt: 0)
                  + spread(knn).padding(toLength: 20, withPad: " ", startingAt: 0) + paired.padding(toLength: 24, withPad: " ", startingAt: 0)
                  + String(format: "%.3f", variance))
        }
        print("  * the paper's choice")
        let means = measured.means(\.validationProbe)
        for (statement, finding) in ablation.findings {
            print("  paper's direction, \(statement): \(finding.holds(means) ? "seen" : "not seen") on the validation \(words.examples) (linear probe)")
        }
        chapter.figure(words.figurePrefix + (config.grid == .full ? "full-" : "") + "\(ablation.key).png") { path throws(PlotError) in
            var figure = Figure(title: "\(ablation.name) (\(ablation.source)): frozen probes, \(words.labels), \(config.pretrainingSeeds) seeds",
                                xLabel: ablation.axis + " (* the paper's choice)", yLabel: "validation accuracy (%)")
            let methods: [(String, KeyPath<ArmScores, [Float]>)] = [("linear probe", \.validationProbe), (config.neighbourName, \.validationNeighbours)]
            let seedMeans = methods.map { _, path in ablation.arms.indices.map { measured.seedMeans($0, { $0[keyPath: path] }) } }
            figure.add(.bars(categories: ablation.arms.map { $0.label + ($0.label == ablation.paperChoice ? " *" : "") },
                             series: zip(methods, seedMeans).map { method, values in (method.0, values.map { Double(100 * mean($0)) }) },
                             ranges: seedMeans.map { values in (values.map { Double(100 * ($0.min() ?? .nan)) }, values.map { Double(100 * ($0.max() ?? .nan)) }) }))
            try figure.render(to: path)
        }
        return measured
    }
}

/// "81.2 (79.0-83.1)": the mean of percentages in [0, 1] and their range.
func spread(_ values: [Float]) -> String {
    guard let low = values.min(), let high = values.max() else { return "-" }
    return values.count == 1 ? String(format: "%.1f", 100 * low) : String(format: "%.1f (%.1f-%.1f)", 100 * mean(values), 100 * low, 100 * high)
}

/// "+1.2 (-0.3 to +2.5)": a signed mean of differences in [0, 1] and their range.
func signedSpread(_ values: [Float]) -> String {
    guard let low = values.min(), let high = values.max() else { return "-" }
    return values.count == 1 ? String(format: "%+.1f", 100 * low) : String(format: "%+.1f (%+.1f to %+.1f)", 100 * mean(values), 100 * low, 100 * high)
}

/// The mean of some values (NaN when there are none).
func mean(_ values: [Float]) -> Float { values.isEmpty ? .nan : values.reduce(0, +) / Float(values.count) }
