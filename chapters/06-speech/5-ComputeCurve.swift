// Chapter 06, section 5: what longer pretraining buys. The committed runs of every length (complete runs of the
// chapter's recipe, three pretraining seeds each), scored in section 3, against the references that do not
// pretrain at all.
import ChapterKit
import Foundation
import Plot

/// Per pretraining length, the logistic probe's mean (over draws, then over pretraining seeds) per count.
struct SpeechComputeCurve {
    var steps: [Int] = []
    var counts: [Int] = []
    /// steps -> count -> mean accuracy.
    var accuracy: [Int: [Int: Float]] = [:]
}

extension Chapter06 {
    func computeCurveSection(_ chapter: Chapter, _ config: SpeechConfig, fewLabels: FewLabelDigits) -> SpeechComputeCurve {
        chapter.section("5. What longer pretraining buys")
        var result = SpeechComputeCurve()
        guard !fewLabels.lengths.isEmpty else {
            chapter.say("No committed run to read (`make pretrained` makes them; --no-pretrained leaves them out): nothing to show here.")
            return result
        }
        let kind = config.frontEnd.features.rawValue
        result.counts = fewLabels.counts.filter { $0 <= 100 }
        result.steps = fewLabels.lengths
        for steps in result.steps {
            result.accuracy[steps] = Dictionary(uniqueKeysWithValues: result.counts.map { ($0, fewLabels.mean("data2vec, \(steps) steps (\(kind)), logistic", $0) ?? .nan) })
        }
        chapter.say("""
            Each length is a complete run of the chapter's recipe (warm-up, schedule and teacher's tau spread over its \
            own steps), three pretraining seeds each, read as in section 3 (view "\(config.probeView)", logistic \
            regression, the same draws); the curve is the mean over the seeds. The references learn nothing \
            before the probe: their line is flat.
            """)
        print("\n  pretraining steps  " + result.counts.map { count in
            let title = "\(count / 10) per digit"
            return String(repeating: " ", count: max(0, 14 - title.count)) + title
        }.joined())
        for steps in result.steps {
            print(String(format: "  %17d  ", steps) + result.counts.map { String(format: "%13.1f%%", 100 * (result.accuracy[steps]?[$0] ?? .nan)) }.joined())
        }
        for (name, method) in [("log-mel statistics", "log-mel statistics, logistic"), (fewLabels.randomName, "\(fewLabels.randomName), logistic")] {
            print("  " + name.padding(toLength: 17, withPad: " ", startingAt: 0).prefix(17) + "  "
                  + result.counts.map { String(format: "%13.1f%%", 100 * (fewLabels.mean(method, $0) ?? .nan)) }.joined())
        }
        chapter.figure("06-compute-curve.png") { path throws(PlotError) in
            var figure = Figure(title: "Few-label digits against pretraining steps (logistic on frozen features, mean of 3 pretraining seeds)",
                                xLabel: "pretraining steps", yLabel: "test accuracy (%)")
            let x = result.steps.map(Double.init)
            for count in result.counts {
                figure.add(.line(x: x, y: result.steps.map { 100 * Double(result.accuracy[$0]?[count] ?? .nan) }, title: "data2vec, \(count / 10) per digit", width: 2))
                figure.add(.line(x: x, y: x.map { _ in 100 * Double(fewLabels.mean("log-mel statistics, logistic", count) ?? .nan) },
                                 title: "log-mel statistics, \(count / 10) per digit", width: 1))
            }
            figure.yRange = 0...100
            figure.extraSettings = ["set key bottom right inside"]
            try figure.render(to: path)
        }
        return result
    }
}
