// Chapter 05, section 6: the compute curve. How much pretraining does it take before data2vec pays off here?
// The frozen probes at one label count, read off encoders pretrained for longer and longer: the random
// encoder (0 steps), the chapter's short run, the copies the long runs saved on the way, and the long runs;
// the references (pixels, training from scratch) as horizontal lines.
import Autograd
import ChapterKit
import Evaluation
import Foundation
import Plot

/// One point of the curve per pretraining length: the probes' mean over pretraining seeds, and their range.
struct CurvePoint {
    var steps: Int
    var encoders: Int
    var nearest: [Float], probe: [Float]  // one mean over the draws per encoder
}

struct ComputeCurve {
    var count: Int
    var points: [CurvePoint] = []
    var shortRun: CurvePoint?
    /// Milliseconds per pretraining step of the long runs, as their checkpoints record it.
    var millisecondsPerStep: Double?
}

extension Chapter05 {
    func computeCurve(_ chapter: Chapter, _ config: VisionConfig, _ setup: EvaluationSetup, encoders: EncoderSet, long: [LongRun],
                      frozen: FrozenResults, tuned: FineTuningResults, pixels: PixelReferences) throws -> ComputeCurve {
        let count = setup.counts.contains(100) ? 100 : setup.counts[0]
        chapter.section("6. The compute curve: how much pretraining it takes")
        chapter.say("""
            The same frozen probes (the \(config.neighbourCounts.last!)-NN vote and the linear probe, last block, \
            \(count) labels, \(config.evaluationSeeds) draws) read off encoders pretrained for longer and longer: \
            the random encoder (0 steps), the chapter's short run, and each long run's copies saved on the way. \
            The pixel references and the fine-tuned networks are drawn beside them.
            """)
        var curve = ComputeCurve(count: count)
        let last = config.encoder.blockCount - 1
        func point(_ steps: Int, _ features: [FrozenFeatures]) -> CurvePoint {
            let scores = features.mapSideBySide { frozenScores(config, setup, $0, blocks: [last], counts: [count])[0] }
            return CurvePoint(steps: steps, encoders: features.count,
                              nearest: scores.map { $0[config.neighbourCounts.count - 1].statistics(count)!.mean },
                              probe: scores.map { $0.last!.statistics(count)!.mean })
        }
        curve.points.append(point(0, [frozen.features[encoders.random.name]!]))
        if let short = encoders.short { curve.shortRun = point(short.steps, [frozen.features[short.name]!]) }
        // The snapshots every long run saved at the same steps, then the long runs themselves.
        var snapshotSteps = Set(long.first?.snapshots.map(\.steps) ?? [])
        for run in long.dropFirst() { snapshotSteps.formIntersection(run.snapshots.map(\.steps)) }
        let (_, seconds) = try measure {
            // A quick run reads the first snapshot only: the code path, not the curve.
            for steps in snapshotSteps.sorted().prefix(options.quick ? 1 : snapshotSteps.count) {
                let backbones = try long.map { run in
                    try Encoder(name: "seed \(run.seed), \(steps) steps", steps: steps, checkpoint: run.snapshots.first { $0.steps == steps }!.url,
                                initSeed: 0).backbone(config)
                }
                let features = backbones.mapSideBySide { FrozenFeatures($0, train: setup.train, test: setup.test) }
                curve.points.append(point(steps, features))
            }
        }
        if !long.isEmpty {
            curve.points.append(point(long[0].steps, encoders.long.map { frozen.features[$0.name]! }))
            let perStep = long.compactMap { run in Double(run.metadata["seconds"] ?? "").map { 1000 * $0 / Double(run.steps) } }
            curve.millisecondsPerStep = perStep.isEmpty ? nil : perStep.reduce(0, +) / Double(perStep.count)
        }
        print("  steps    encoders   \(config.neighbourCounts.last!)-NN (range)          linear probe (range)")
        for p in curve.points + (curve.shortRun.map { [$0] } ?? []) {
            print(String(format: "  %6d   %8d   %5.1f (%4.1f-%4.1f)     %5.1f (%4.1f-%4.1f)%@", p.steps, p.encoders, 100 * mean(p.nearest),
                         100 * p.nearest.min()!, 100 * p.nearest.max()!, 100 * mean(p.probe), 100 * p.probe.min()!, 100 * p.probe.max()!,
                         p.steps == encoders.short?.steps && p.encoders == 1 && curve.shortRun?.steps == p.steps ? "   (the chapter's short run)" : ""))
        }
        if let ms = curve.millisecondsPerStep {
            print(String(format: "  (the long runs took %.0f ms per step on the machine that made them: 1,000 steps = %.0f s; snapshot features in %@)",
                         ms, ms, formatDuration(seconds)))
        }
        drawCurve(chapter, config, curve, tuned: tuned, pixels: pixels)
        return curve
    }

    func drawCurve(_ chapter: Chapter, _ config: VisionConfig, _ curve: ComputeCurve, tuned: FineTuningResults, pixels: PixelReferences) {
        let count = curve.count
        // Steps on a log scale: 0 is drawn at 100 steps' place, labelled "random".
        let floor = 100.0
        func x(_ steps: Int) -> Double { max(Double(steps), floor) }
        let right = x(curve.points.map(\.steps).max() ?? 1000) * 1.5
        chapter.figure("05-compute-curve.png") { path throws(PlotError) in
            var figure = Figure(title: "MNIST, \(count) labels: accuracy against pretraining (mean and range over pretraining seeds)",
                                xLabel: "pretraining steps of 64 images (leftmost: the random encoder)", yLabel: "test accuracy (%)")
            for (name, values) in [("\(config.neighbourCounts.last!)-NN on frozen features", curve.points.map(\.nearest)),
                                   ("linear probe on frozen features", curve.points.map(\.probe))] {
                figure.add(.lineWithRanges(x: curve.points.map { x($0.steps) }, y: values.map { 100 * Double(mean($0)) },
                                           low: values.map { 100 * Double($0.min()!) }, high: values.map { 100 * Double($0.max()!) }, title: name))
            }
            if let short = curve.shortRun {
                figure.add(.points(x: [x(short.steps), x(short.steps)], y: [100 * Double(mean(short.nearest)), 100 * Double(mean(short.probe))],
                                   title: "the chapter's short run (k-NN, probe)", size: 1.5))
            }
            var lines: [(String, Float?)] = pixels.all.map { ($0.name, $0.statistics(count)?.mean) }
            lines += tuned.arms.map { ($0.name, $0.mean(count)) }
            for (name, value) in lines {
                guard let value else { continue }
                figure.add(.line(x: [floor, right], y: [100 * Double(value), 100 * Double(value)], title: name, width: 1))
            }
            figure.logScaleX = true
            figure.xRange = (floor * 0.8)...right
            figure.yRange = 0...100
            figure.height = 600
            try figure.render(to: path)
        }
    }
}
