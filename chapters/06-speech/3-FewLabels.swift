// Chapter 06, section 3: which digit is it, from 1, 5, 10 or 50 labelled clips per digit? Frozen features read
// by nearest neighbours and logistic regression, for data2vec encoders, a random encoder and the classical
// features of speech, log-mel statistics, all with the same pooling, probes and labelled clips.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Plot

/// An encoder section 3 reads: its name, its pretraining steps and where its parameters come from.
struct SpeechEncoder {
    var name: String
    var frontEnd: SpeechFrontEndConfiguration
    var steps: Int
    /// nil: a random initialization from `initSeed`.
    var checkpoint: URL?
    var initSeed: UInt64
}

/// What section 3 measured: per method (a kind of feature and a probe), each run's scores over the protocol.
struct FewLabelDigits {
    var counts: [Int] = []
    /// (name, one ProtocolScores per encoder of the kind: one per pretraining seed for the committed runs).
    var methods: [(name: String, runs: [ProtocolScores])] = []
    /// Per view of the headline encoders, the logistic probe's mean over 1-10 labelled clips per digit.
    var views: [(view: String, mean: Float)] = []
    var headline = ""
    /// The protocol, for sections 4 and 5.
    var evaluation: ViewProbes?
    var randomName = ""
    /// The pretraining lengths of the committed runs read (section 5's curve).
    var lengths: [Int] = []
    /// Per front end pretrained in section 2, its short run's mean gain over its random encoder (1-10 per digit).
    var frontEndGains: [(kind: String, gain: Float)] = []
    /// The pretrained encoders the headline reports (the committed runs of the chosen length, or this run's):
    /// sections 4 and 6 fine-tune them.
    var sources: [SpeechEncoder] = []

    func method(_ name: String) -> [ProtocolScores]? { methods.first { $0.name == name }?.runs }
    /// The mean over runs of each run's mean at `count`.
    func mean(_ name: String, _ count: Int) -> Float? {
        let means = (method(name) ?? []).compactMap { $0.statistics(count)?.mean }
        return means.isEmpty ? nil : means.reduce(0, +) / Float(means.count)
    }
}

extension Chapter06 {
    /// Each block's output pooled over each clip's valid frames (mean and standard deviation: [N, 2D] per
    /// block), for the clips at `indices` in order, in evaluation mode; then the blocks' average [N, 2D] and the
    /// blocks side by side [N, 2D x blocks] (`SpeechConfig.viewNames`).
    func blockFeatures(_ backbone: SpeechBackbone, _ data: SpeechData, _ indices: [Int]) -> [Tensor] {
        backbone.eval()
        var rng = RandomGenerator(seed: 0)  // the batches' order only: a clip's features do not depend on its batch
        let batches = lengthBucketedBatches(Array(indices.indices), lengths: { data.digits.clips[indices[$0]].count }, size: 64, using: &rng)
        let blockCount = backbone.encoder.blocks.count
        var rows = [[Tensor?]](repeating: [Tensor?](repeating: nil, count: indices.count), count: blockCount + 2)
        for batch in batches {
            Tensor.withoutGradients {
                let (encoded, lengths) = backbone.encode(data.digits.batch(batch.map { indices[$0] }, using: &rng), frozenCNN: false, recordBlocks: true)
                let pooled = encoded.blocks.map { meanAndDeviationOverTime($0.output, lengths: lengths) }
                let average = pooled.dropFirst().reduce(pooled[0], +) / Float(blockCount)
                let all = Tensor.concatenate(pooled, along: 1)
                for (view, features) in (pooled + [average, all]).enumerated() {
                    for (k, position) in batch.enumerated() { rows[view][position] = features.sliced(k..<(k + 1), along: 0) }
                }
            }
        }
        return rows.map { Tensor.concatenate($0.map { $0! }, along: 0) }
    }

    /// An encoder's pooled views of every training and test clip.
    func pooledViews(_ encoder: SpeechEncoder, _ config: SpeechConfig, _ data: SpeechData) throws -> FeatureViews {
        var rng = RandomGenerator(seed: encoder.initSeed)
        let backbone = SpeechBackbone(frontEnd: encoder.frontEnd, encoder: config.encoder, using: &rng)
        if let url = encoder.checkpoint { try Checkpoint.load(url, into: backbone) }
        return FeatureViews(train: blockFeatures(backbone, data, data.train), test: blockFeatures(backbone, data, data.test),
                           blocks: config.encoder.blockCount)
    }

    /// The largest difference between the pooled features of a few test clips encoded alone and encoded together
    /// in one zero-padded batch (the padding must not reach a clip's features), and how many clips.
    func batchIndependence(_ encoder: SpeechEncoder, _ config: SpeechConfig, _ data: SpeechData) throws -> (Float, Int) {
        var rng = RandomGenerator(seed: encoder.initSeed)
        let backbone = SpeechBackbone(frontEnd: encoder.frontEnd, encoder: config.encoder, using: &rng)
        if let url = encoder.checkpoint { try Checkpoint.load(url, into: backbone) }
        // The shortest and the longest test clips and a few between: the most padding a batch can hold.
        let sorted = data.test.sorted { data.digits.clips[$0].count < data.digits.clips[$1].count }
        let clips = Array(Set([sorted.first!, sorted.last!, sorted[sorted.count / 4], sorted[sorted.count / 2], sorted[3 * sorted.count / 4]]))
        let together = blockFeatures(backbone, data, clips)
        var worst: Float = 0
        for (row, clip) in clips.enumerated() {
            let alone = blockFeatures(backbone, data, [clip])
            for (a, b) in zip(alone, together) {
                let x = b.sliced(row..<(row + 1), along: 0).scalars
                worst = max(worst, zip(a.scalars, x).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0)
            }
        }
        return (worst, clips.count)
    }

    /// Log-mel energies pooled the same way: [N, 2 x 40].
    func logMelStatistics(_ data: SpeechData, _ indices: [Int]) -> Tensor {
        let melSpectrogram = LogMelSpectrogram(sampleRate: SpokenDigits.sampleRate)
        let rows = indices.map { i -> Tensor in
            let mel = melSpectrogram(data.digits.clips[i])  // [frames, 40]
            return meanAndDeviationOverTime(mel.reshaped([1, mel.shape[0], mel.shape[1]]), lengths: [mel.shape[0]])
        }
        return Tensor.concatenate(rows, along: 0)
    }

    /// The encoders of section 3: a random one and this run's for each front end pretrained, and the committed
    /// runs (`make pretrained`) that never heard a test clip.
    func speechEncoders(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, checkpoint: URL, compared: ShortRun?) throws -> [SpeechEncoder] {
        var runs = [(config.frontEnd, checkpoint)]
        if let compared { runs.append((compared.frontEnd, compared.checkpoint)) }
        var encoders: [SpeechEncoder] = []
        for (frontEnd, url) in runs {
            var c = config
            c.frontEnd = frontEnd
            let kind = frontEnd.features.rawValue
            let own = try checkProvenance(of: url, flag: "--checkpoint", config: c, data: data)
            encoders.append(SpeechEncoder(name: "random encoder (\(kind))", frontEnd: frontEnd, steps: 0, checkpoint: nil,
                                          initSeed: options.seed.derived("random encoder \(kind)")))
            encoders.append(SpeechEncoder(name: "data2vec, this run (\(kind))", frontEnd: frontEnd,
                                          steps: Int(own?["steps"] ?? "") ?? config.pretrainingSteps, checkpoint: url, initSeed: 0))
        }
        for path in config.pretrained {
            let url = URL(fileURLWithPath: path)
            guard let metadata = try checkProvenance(of: url, flag: "--pretrained", config: config, data: data, optional: pretrained.isEmpty) else { continue }
            let steps = Int(metadata["steps"] ?? "") ?? 0
            guard steps == Int(metadata["total_steps"] ?? "") else {
                print("  note: \(url.relativePath) is a copy saved during a run (\(steps) of \(metadata["total_steps"] ?? "?") steps); left out")
                continue
            }
            encoders.append(SpeechEncoder(name: "pretrained \(steps) steps, seed \(metadata["seed"] ?? "?")", frontEnd: config.frontEnd,
                                          steps: steps, checkpoint: url, initSeed: 0))
        }
        return encoders
    }

    /// A checkpoint's metadata after making sure it never heard a test clip and has this run's front end. A
    /// committed long run found by default (`optional`) that heard a test clip is skipped with a note; one named
    /// on the command line is refused.
    func checkProvenance(of url: URL, flag: String, config: SpeechConfig, data: SpeechData, optional: Bool = false) throws -> [String: String]? {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ChapterError("\(flag) \(url.relativePath): no such file. Pretrain it with this chapter (--pretrain-only), or leave the flag out.")
        }
        let metadata = try Checkpoint.load(url).metadata
        let path = url.relativePath
        if let frontEnd = metadata["front_end"], frontEnd != config.frontEnd.features.rawValue {
            throw ChapterError("\(flag) \(path) was pretrained with --front-end \(frontEnd); run with --front-end \(frontEnd), or give a checkpoint of \(config.frontEnd.features.rawValue)")
        }
        guard let record = metadata["heard"], let heard = data.digits.heardClips(record: record, among: data.test) else {
            if optional { print("  note: \(path) does not record the clips it heard; left out"); return nil }
            throw ChapterError("\(flag) \(path) does not record the clips it pretrained on (no readable 'heard' entry), so the chapter cannot make sure "
                               + "it never heard a test clip. Pretrain it with this chapter (--pretrain-only).")
        }
        // With --validation the scored clips are training clips, which the committed runs heard unlabelled: allowed, as
        // every pretraining hears its training clips.
        guard heard.isEmpty || validation else {
            let speakers = Set(heard.map { data.digits.speakerNames[data.digits.speakers[$0]] ?? "?" }).sorted().joined(separator: ", ")
            let why = "\(path) heard \(heard.count) of the \(data.test.count) test clips (speakers \(speakers)) while pretraining"
            if optional {
                print("  note: \(why); it is left out (a held-out speaker needs a checkpoint that never heard that voice, or this run's own)")
                return nil
            }
            throw ChapterError("\(flag) \(why): scoring it on them would measure memory. Give a checkpoint pretrained without them "
                               + "(pretrain one with the same --test-speakers and --pretrain-only), or --no-pretrained to score this run's own.")
        }
        return metadata
    }

    func fewLabelSection(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, checkpoint: URL, compared: ShortRun?) throws -> FewLabelDigits {
        chapter.section("3. Which digit? Few labels on frozen features")
        let encoders = try speechEncoders(chapter, config, data: data, checkpoint: checkpoint, compared: compared)
        let trainLabels = data.train.map { data.digits.digits[$0] }, testLabels = data.test.map { data.digits.digits[$0] }
        let counts = config.labelsPerDigit.map { 10 * $0 }.filter { $0 <= data.train.count }
        let draws = try FewLabelProtocol(labels: trainLabels, classCount: 10, counts: counts, seeds: config.evaluationSeeds,
                                         seed: options.seed.derived("labelled clips"))
        let committed = encoders.filter { $0.name.hasPrefix("pretrained") }
        let lengths = Set(committed.map(\.steps)).sorted()
        chapter.say("""
            With every label the task is easy (a linear probe on log-mel statistics reads 96% of the test digits); \
            what pretraining should buy is the same with few labels. \(config.evaluationSeeds) draws of \
            \(config.labelsPerDigit.map(String.init).joined(separator: ", ")) labelled training clips per digit, each \
            draw given to every method. Every clip becomes one vector: the mean and standard deviation over its \
            frames (statistics pooling, as SUPERB's utterance tasks) of each encoder block's output, in evaluation \
            mode; the average of the \(config.encoder.blockCount) blocks' vectors; all of them side by side, which \
            logistic regression weighs as it fits; and SUPERB's learned weighted sum of the blocks (a softmax weight \
            per block fitted with the classifier, Sources/Evaluation/WeightedSumOfBlocks.swift). The tables \
            report the view "\(config.probeView)", the best over 1-10 labelled clips per digit on the validation split \
            (--validation; results/trials/ch06-views.txt); the other views are printed for the headline encoders. The same pooling of 40 log-mel energies is the classical reference. \
            Features are standardized with the statistics of all training clips (no labels), and read by the nearest \
            neighbour (cosine) and by logistic regression (L-BFGS to the optimum, C = \(config.logisticC)). Encoders: \
            for each front end pretrained in section 2 a random one and this run's, and \(committed.isEmpty ? "no committed run (none found that never heard a test clip)" : "the \(committed.count) committed runs of `make pretrained` (\(lengths.map(String.init).joined(separator: ", ")) steps, each length with \(committed.count / lengths.count) pretraining seeds, each a complete run of the chapter's recipe)").
            """)
        let ((logMel, views), seconds) = try measure {
            let logMel = FeatureViews(train: [logMelStatistics(data, data.train)], test: [logMelStatistics(data, data.test)])
            let views = try encoders.map { try pooledViews($0, config, data) }
            return (logMel, views)
        }
        print("  pooled features of \(data.train.count + data.test.count) clips from log-mel and \(encoders.count) encoders in \(formatDuration(seconds))")

        let evaluation = ViewProbes(draws: draws, trainLabels: trainLabels, testLabels: testLabels, classCount: 10, inverseRegularization: config.logisticC)
        func scores(_ features: FeatureViews, view: Int) -> (nearest: ProtocolScores, logistic: ProtocolScores) { evaluation.scores(features, view: view) }
        var result = FewLabelDigits(counts: counts)
        result.evaluation = evaluation
        let mel = scores(logMel, view: 0)
        result.methods += [("log-mel statistics, 1-NN", [mel.nearest]), ("log-mel statistics, logistic", [mel.logistic])]
        let chosen = config.viewNames.firstIndex(of: config.probeView)!  // the view the tables report
        let viewCount = config.viewNames.count
        let shortRuns = encoders.indices.filter { !encoders[$0].name.hasPrefix("pretrained") }
        let kinds: [(name: String, members: [Int])] = shortRuns.map { (encoders[$0].name, [$0]) }
            + lengths.map { steps in ("data2vec, \(steps) steps (\(config.frontEnd.features.rawValue))",
                                     encoders.indices.filter { encoders[$0].name.hasPrefix("pretrained \(steps) steps") }) }
        let kind = config.frontEnd.features.rawValue
        let headlineSteps = lengths.contains(config.headlineSteps) ? config.headlineSteps : lengths.last
        let headline = headlineSteps.map { "data2vec, \($0) steps (\(kind))" } ?? "data2vec, this run (\(kind))"
        // Every view for the headline encoders (printed by view); the reported view for the others.
        var perBlock: [String: [[ProtocolScores]]] = [:]
        for kind in kinds {
            let read = kind.name == headline ? Array(0..<viewCount) : [chosen]
            let all = kind.members.map { member in read.map { scores(views[member], view: $0) } }
            let reported = read.firstIndex(of: chosen)!
            result.methods.append(("\(kind.name), 1-NN", all.map { $0[reported].nearest }))
            result.methods.append(("\(kind.name), logistic", all.map { $0[reported].logistic }))
            if kind.name == headline { perBlock[kind.name] = all.map { $0.map(\.logistic) } }
        }
        let labelledClips = Set(counts.flatMap { count in (0..<draws.seeds).flatMap { draws.subset(count, seed: $0) } }.map { data.train[$0] })
        chapter.check(labelledClips.isDisjoint(with: data.test),
                      "no setting is chosen on test clips: none is among the \(labelledClips.count) labelled clips, and every encoder read here never heard one in pretraining")
        let (batchDifference, batchSize) = try batchIndependence(encoders[1], config, data)
        chapter.check(batchDifference < 1e-4, String(format: "a clip's features do not depend on its batch (%d test clips alone and in one padded batch: largest difference %.1e)",
                                                     batchSize, batchDifference))
        let shared = sameLabelledExamples(result.methods.flatMap(\.runs))
        chapter.check(shared.holds, "every method was given the same labelled clips at each count and draw (\(shared.compared) scores compared)")

        print("\n  test accuracy with labelled clips per digit (mean over \(config.evaluationSeeds) draws; committed runs: mean of the pretraining seeds' means)")
        print("  " + "method".padding(toLength: 46, withPad: " ", startingAt: 0) + counts.map { String(format: "%9d", $0 / 10) }.joined())
        for (name, runs) in result.methods {
            let cells = counts.map { count -> String in
                let means = runs.compactMap { $0.statistics(count)?.mean }
                return means.isEmpty ? "        -" : String(format: "%8.1f%%", 100 * means.reduce(0, +) / Float(means.count))
            }
            print("  " + name.padding(toLength: 46, withPad: " ", startingAt: 0) + cells.joined())
        }
        result.headline = headline
        result.randomName = "random encoder (\(kind))"
        result.sources = headlineSteps.map { steps in committed.filter { $0.steps == steps } } ?? [encoders[1]]
        result.lengths = lengths
        if let blocks = perBlock[headline] {
            let few = counts.filter { $0 <= 100 }
            result.views = (0..<viewCount).map { view in
                let means = few.map { count in blocks.compactMap { $0[view].statistics(count)?.mean }.reduce(0, +) / Float(blocks.count) }
                return (config.viewNames[view], means.reduce(0, +) / Float(max(means.count, 1)))
            }
            print("  \(headline), logistic, by view (mean over 1-10 per digit): "
                  + result.views.map { String(format: "%@ %.1f%%", $0.view, 100 * $0.mean) }.joined(separator: ", "))
        }
        if let compared {
            // Which front end learned more in the same pretraining: each short run's gain over its own random encoder.
            let other = compared.frontEnd.features.rawValue
            let gains = [kind, other].map { name in counts.filter { $0 <= 100 }.map { count in
                (result.mean("data2vec, this run (\(name)), logistic", count) ?? .nan) - (result.mean("random encoder (\(name)), logistic", count) ?? .nan)
            } }
            let average = gains.map { $0.reduce(0, +) / Float(max($0.count, 1)) }
            result.frontEndGains = [(kind, average[0]), (other, average[1])]
            chapter.say(String(format: """
                Which front end learns faster here: after the same %d pretraining steps, the logistic probe on this run's \
                encoder gains %+.1f points over its random encoder with the %@ front end and %+.1f with the %@ one (mean \
                over 1-10 labelled clips per digit).
                """, config.pretrainingSteps, 100 * average[0], kind, 100 * average[1], other))
        }
        if let runs = result.method("\(headline), logistic"), runs.count > 1 {
            print("  \(headline), logistic, each pretraining seed: " + counts.map { count in
                "\(count / 10) per digit " + runs.compactMap { $0.statistics(count).map { String(format: "%.1f", 100 * $0.mean) } }.joined(separator: " / ")
            }.joined(separator: "; "))
        }
        chapter.figure("06-few-labels.png") { path throws(PlotError) in
            var figure = Figure(title: "Spoken digits from few labels, frozen features (\(data.test.count) test clips, \(config.evaluationSeeds) draws)",
                                xLabel: "labelled clips per digit", yLabel: "test accuracy (%)")
            for (name, runs) in result.methods where name.hasSuffix("logistic") || name == "log-mel statistics, 1-NN" {
                let means = counts.map { count in runs.compactMap { $0.statistics(count)?.mean } }
                figure.add(.lineWithRanges(x: counts.map { Double($0 / 10) }, y: means.map { 100 * Double($0.reduce(0, +) / Float($0.count)) },
                                           low: counts.map { c in 100 * Double(runs.compactMap { $0.statistics(c)?.values.min() }.min() ?? 0) },
                                           high: counts.map { c in 100 * Double(runs.compactMap { $0.statistics(c)?.values.max() }.max() ?? 0) },
                                           title: name))
            }
            figure.logScaleX = true
            figure.yRange = 0...100
            figure.extraSettings = ["set key bottom right inside"]
            try figure.render(to: path)
        }
        if !options.quick {
            for count in counts where count <= 100 {
                guard let ours = result.mean("\(headline), logistic", count), let mel = result.mean("log-mel statistics, logistic", count),
                      let random = result.mean("\(result.randomName), logistic", count) else { continue }
                chapter.outcome(ours >= mel + 0.05, String(format: "with %d labelled clips per digit, %@ beats log-mel statistics by at least 5 points (logistic: %.1f%% vs %.1f%%)",
                                                          count / 10, headline, 100 * ours, 100 * mel))
                chapter.outcome(ours >= random + 0.10, String(format: "with %d labelled clips per digit, %@ beats its random encoder by at least 10 points (logistic: %.1f%% vs %.1f%%)",
                                                             count / 10, headline, 100 * ours, 100 * random))
            }
        }
        return result
    }
}
