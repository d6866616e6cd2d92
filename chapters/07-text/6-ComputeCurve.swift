// Chapter 07, section 6: what longer pretraining buys. The copies saved during the pretraining, read by the same
// few-label fine-tuning as sections 4 and 5 and by the hidden-token probe of section 3.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Plot

/// One point of the compute curve per pretraining length and objective.
struct CurvePoint {
    var steps: Int
    var sst2: [String: Float] = [:]
    var shift: [String: Float] = [:]
    var hiddenToken: [String: Float] = [:]
    /// The same probe with the token in view (section 3's second probe).
    var tokenInView: [String: Float] = [:]
    /// The last block's share of output variance between sequences (section 3's third measurement).
    var sequenceShare: [String: Double] = [:]
    /// The masked LM head's own held-out accuracy after `steps` steps (recorded in its checkpoint).
    var languageModelHead: Float = .nan
}

extension Chapter07 {
    func computeCurveSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining, probe: HiddenTokenProbe,
                             sentiment: FewLabelResults, shift: FewLabelResults) throws -> [CurvePoint] {
        chapter.section("6. What longer pretraining buys")
        guard !pretrained.snapshots.isEmpty else {
            chapter.say("This run saved no copies during pretraining (--snapshot-steps), so there is no curve to draw.")
            return []
        }
        let (sst2Count, shiftCount) = (config.curveSST2Count, config.shiftGoalCount)
        chapter.say("""
            The pretraining saved both encoders after \(pretrained.snapshots.map { "\($0.steps)" }.joined(separator: ", ")) of its \
            \(pretrained.steps) steps. Each copy is fine-tuned as in sections 4 and 5, on the first \(config.curveSeeds) draws \
            of \(sst2Count) labelled SST-2 phrases and of \(shiftCount) labelled bigram-shift examples (each start's \
            learning rate of those sections), and probed for the token, hidden and in view, as in section 3. Training from scratch \
            and Naive Bayes learn nothing before the labels: their lines are flat.
            """)
        let (sst2, shiftTask) = (sentiment.task, shift.task)
        var points: [CurvePoint] = []
        var backbones: [(steps: Int, start: Start, backbone: TextBackbone)] = []
        for snapshot in pretrained.snapshots {
            let d2v = try readPretrained(snapshot.data2vec, config, text: text), lm = try readPretrained(snapshot.languageModel, config, text: text)
            backbones += [(snapshot.steps, .data2vec, d2v.backbone), (snapshot.steps, .maskedLM, lm.backbone)]
            var point = CurvePoint(steps: snapshot.steps)
            point.languageModelHead = Float(lm.metadata["held-out accuracy"] ?? "") ?? .nan
            points.append(point)
        }
        backbones += [(pretrained.steps, .data2vec, pretrained.data2vec), (pretrained.steps, .maskedLM, pretrained.languageModel)]
        var last = CurvePoint(steps: pretrained.steps)
        last.languageModelHead = pretrained.validationAccuracy
        points.append(last)
        // The labelled examples of sections 4 and 5's first draws.
        let shiftSeeds = config.shiftSeeds[shiftCount] ?? 1
        struct Job { var index: Int, start: Start, backbone: TextBackbone, task: Int, seed: Int }
        var jobs: [Job] = []
        for (index, entry) in backbones.enumerated() where entry.steps < pretrained.steps {
            for seed in 0..<min(config.curveSeeds, config.sst2Seeds) { jobs.append(Job(index: index, start: entry.start, backbone: entry.backbone, task: 0, seed: seed)) }
            for seed in 0..<min(config.curveSeeds, shiftSeeds) { jobs.append(Job(index: index, start: entry.start, backbone: entry.backbone, task: 1, seed: seed)) }
        }
        let started = Date()
        let runs = jobs.mapSideBySide { job -> Float in
            if job.task == 0 {
                return fineTune(job.backbone, task: sst2, subset: sentiment.labelled(sst2Count, seed: job.seed)!,
                                rate: config.sst2Rate(job.start, sst2Count), pooling: config.sentencePooling, budget: config.classifyBudget,
                                config: config, seed: options.seed.derived("sst2 fine-tune \(sst2Count)", job.seed)).accuracy
            }
            return fineTune(job.backbone, task: shiftTask, subset: shift.labelled(shiftCount, seed: job.seed)!,
                            rate: config.shiftRate(job.start, shiftCount), pooling: config.shiftPooling, budget: config.shiftBudget(shiftCount),
                            config: config, seed: options.seed.derived("bigram shift fine-tune \(shiftCount)", job.seed)).accuracy
        }
        print(String(format: "  %d fine-tuning runs in %.0f s (two at a time)", jobs.count, Date().timeIntervalSince(started)))
        for (job, accuracy) in zip(jobs, runs) {
            let p = points.firstIndex { $0.steps == backbones[job.index].steps }!
            let name = job.start.rawValue
            if job.task == 0 { points[p].sst2[name, default: 0] += accuracy / Float(min(config.curveSeeds, config.sst2Seeds)) }
            else { points[p].shift[name, default: 0] += accuracy / Float(min(config.curveSeeds, shiftSeeds)) }
        }
        // The last point is sections 4 and 5's own runs (the same subsets, the mean over the same first draws).
        for start in [Start.data2vec, .maskedLM] {
            let s = sentiment.methods[start.rawValue]?.scores[sst2Count] ?? [], t = shift.methods[start.rawValue]?.scores[shiftCount] ?? []
            points[points.count - 1].sst2[start.rawValue] = s.prefix(config.curveSeeds).reduce(0, +) / Float(max(1, min(config.curveSeeds, s.count)))
            points[points.count - 1].shift[start.rawValue] = t.prefix(config.curveSeeds).reduce(0, +) / Float(max(1, min(config.curveSeeds, t.count)))
        }
        for (p, point) in points.enumerated() where point.steps < pretrained.steps {
            let encoders = backbones.filter { $0.steps == point.steps }.map { ($0.start.rawValue, $0.backbone) }
            points[p].hiddenToken = hiddenTokenProbe(encoders, text: text, classes: config.hiddenTokenClasses).accuracy
            points[p].tokenInView = hiddenTokenProbe(encoders, text: text, classes: config.hiddenTokenClasses, hiding: false).accuracy
            for (name, backbone) in encoders { points[p].sequenceShare[name] = sequenceShares(backbone, blocks: text.validBlocks).last }
        }
        points[points.count - 1].hiddenToken = probe.accuracy
        points[points.count - 1].tokenInView = probe.inView
        points[points.count - 1].sequenceShare = probe.sequenceShare.compactMapValues(\.last)
        func mean(_ r: FewLabelResults, _ method: String, _ count: Int) -> Float {
            let s = r.methods[method]?.scores[count] ?? []
            return s.prefix(config.curveSeeds).reduce(0, +) / Float(max(1, min(config.curveSeeds, s.count)))
        }
        let flat = (scratchSST2: mean(sentiment, Start.scratch.rawValue, sst2Count), bayes: mean(sentiment, bagMethods[0], sst2Count),
                    scratchShift: mean(shift, Start.scratch.rawValue, shiftCount))
        print("\n  steps   SST-2 \(sst2Count) labels: data2vec  masked LM   bigram shift \(shiftCount): data2vec  masked LM   hidden token: data2vec probe  masked LM probe  masked LM head")
        for point in points {
            print(String(format: "  %5d   %25.1f%%  %8.1f%%   %26.1f%%  %8.1f%%   %29.1f%%  %14.1f%%  %13.1f%%", point.steps,
                         100 * (point.sst2["data2vec"] ?? .nan), 100 * (point.sst2["masked LM"] ?? .nan),
                         100 * (point.shift["data2vec"] ?? .nan), 100 * (point.shift["masked LM"] ?? .nan),
                         100 * (point.hiddenToken["data2vec"] ?? .nan), 100 * (point.hiddenToken["masked LM"] ?? .nan), 100 * point.languageModelHead))
        }
        print("  the token in view (section 3's second probe): " + points.map { point in
            String(format: "%d steps: data2vec %.1f%%, masked LM %.1f%%", point.steps, 100 * (point.tokenInView["data2vec"] ?? .nan),
                   100 * (point.tokenInView["masked LM"] ?? .nan))
        }.joined(separator: "; "))
        print("  the last block's share of variance between sequences (section 3's third measurement): " + points.map { point in
            String(format: "%d steps: data2vec %.1f%%, masked LM %.1f%%", point.steps, 100 * (point.sequenceShare["data2vec"] ?? .nan),
                   100 * (point.sequenceShare["masked LM"] ?? .nan))
        }.joined(separator: "; "))
        print(String(format: "  flat lines: SST-2 from scratch %.1f%%, Naive Bayes %.1f%%; bigram shift from scratch %.1f%% (first %d draws)",
                     100 * flat.scratchSST2, 100 * flat.bayes, 100 * flat.scratchShift, config.curveSeeds))
        chapter.figure("07-compute-curve.png") { path throws(PlotError) in
            let x = points.map { Double($0.steps) }
            func line(_ values: [Float], _ title: String) -> Figure.Layer { .line(x: x, y: values.map { 100 * Double($0) }, title: title) }
            func flatLine(_ value: Float, _ title: String) -> Figure.Layer { .line(x: [x.first!, x.last!], y: [100 * Double(value), 100 * Double(value)], title: title) }
            var top = Figure(title: "SST-2 with \(sst2Count) labels (dev accuracy, mean of \(config.curveSeeds) draws)", xLabel: "pretraining steps", yLabel: "accuracy (%)")
            top.add(line(points.map { $0.sst2["data2vec"] ?? .nan }, "data2vec"))
            top.add(line(points.map { $0.sst2["masked LM"] ?? .nan }, "masked LM"))
            top.add(flatLine(flat.scratchSST2, "from scratch"))
            top.add(flatLine(flat.bayes, "Naive Bayes (words)"))
            var middle = Figure(title: "Bigram shift with \(shiftCount) labels (test accuracy)", xLabel: "pretraining steps", yLabel: "accuracy (%)")
            middle.add(line(points.map { $0.shift["data2vec"] ?? .nan }, "data2vec"))
            middle.add(line(points.map { $0.shift["masked LM"] ?? .nan }, "masked LM"))
            middle.add(flatLine(flat.scratchShift, "from scratch"))
            middle.add(flatLine(0.5, "bags of words (chance)"))
            var bottom = Figure(title: "The hidden token on the held-out novel", xLabel: "pretraining steps", yLabel: "accuracy (%)")
            bottom.add(line(points.map { $0.hiddenToken["data2vec"] ?? .nan }, "data2vec, linear probe"))
            bottom.add(line(points.map { $0.hiddenToken["masked LM"] ?? .nan }, "masked LM, linear probe"))
            bottom.add(line(points.map(\.languageModelHead), "masked LM, its own head (chosen positions)"))
            bottom.add(line(points.map { $0.tokenInView["data2vec"] ?? .nan }, "data2vec, the token in view"))
            top.extraSettings = ["set key bottom right"]
            middle.extraSettings = ["set key bottom right"]
            middle.yRange = 45...70
            bottom.extraSettings = ["set key top right"]
            try Figure.renderStacked([top, middle, bottom], to: path)
        }
        return points
    }
}
