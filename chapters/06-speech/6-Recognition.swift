// Chapter 06, section 6: recognizing strings of digits with CTC, fine-tuned from data2vec and trained from
// scratch, with 1%, 10% and 100% of the labelled strings.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim
import Plot

/// Digit error rates per fraction of labelled strings, over seeds, and the updates each run used.
struct SpeechRecognition {
    var fractions: [Double] = []
    var labelledStrings: [Double: Int] = [:]
    var fineTuned: [Double: SeedStatistics] = [:], scratch: [Double: SeedStatistics] = [:]
    var fineTunedSteps: [Double: [Int]] = [:], scratchSteps: [Double: [Int]] = [:]
    var trainStrings = 0, testStrings = 0, testDigits = 0
}

extension Chapter06 {
    func recognitionSection(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, sources: [SpeechEncoder]) throws -> SpeechRecognition {
        chapter.section("6. Recognizing digit strings with CTC")
        let trainStrings = data.digits.digitStrings(from: data.train, passes: 1, seed: options.seed.derived("training strings"))
        let testStrings = data.digits.digitStrings(from: data.test, passes: config.testStringPasses, seed: options.seed.derived("test strings"))
        var result = SpeechRecognition()
        result.fractions = config.labelFractions
        (result.trainStrings, result.testStrings) = (trainStrings.count, testStrings.count)
        result.testDigits = testStrings.map(\.digits.count).reduce(0, +)
        let budget = config.fineTuningBudget
        let cnnRule = config.frozenCNN
            ? "both keep their CNN frozen, as wav2vec 2.0 keeps its pretrained one (--frozen-cnn)"
            : "both train every weight (wav2vec 2.0 keeps its pretrained CNN frozen; frozen in both, the scratch model would be "
                + "stuck with a random CNN, a baseline that proves nothing: --frozen-cnn shows it)"
        // CTC first learns to emit only blanks (a digit error rate of 100%): a run stopped early on that plateau would
        // end there, hence the minimum number of updates.
        let budgetRule = budget.minimumSteps >= budget.maximumSteps
            ? "\(budget.maximumSteps) updates of \(budget.batchSize) strings, validated on \(Int(100 * budget.validationFraction))% of the "
                + "labelled strings held out, keeping the best validated parameters"
            : "\(budget.minimumSteps) to \(budget.maximumSteps) updates of \(budget.batchSize) strings, validated on "
                + "\(Int(100 * budget.validationFraction))% of the labelled strings held out, stopped after \(budget.patience) validations "
                + "without improvement, keeping the best"
        let rates = { (table: [Double: Float]) in result.fractions.map { String(format: "%.0f%%: %g", 100 * $0, table[$0] ?? .nan) }.joined(separator: ", ") }
        let e = config.fineTuneEncoder
        let readsFrames = config.ctcFramesPerStep == 1
            ? "each 10 ms frame (wav2vec 2.0 emits one output per 20 ms frame: exercise 5 tries two frames per output)"
            : "\(config.ctcFramesPerStep) frames at a time (steps of \(config.ctcFramesPerStep * 10) ms)"
        chapter.say("""
            Strings of 2-5 digits are made by joining clips with 50-150 ms of faint noise (Sources/Datasets/DigitStrings.swift): \
            \(trainStrings.count) strings from the training clips (each clip once) and \(testStrings.count) strings \
            (\(result.testDigits) digits) from the test clips. A recognizer reads them step by step: the encoder and one \
            Linear layer from \(readsFrames) to 11 symbols (a blank and the 10 \
            digits), trained with CTC as fairseq computes it (criterions/ctc.py: each string's -log p summed, averaged \
            over the strings, Sources/Autograd/Ops+CTC.swift) and read by greedy decoding (the best symbol per step, \
            repeats merged, blanks dropped). The score is the digit error rate: edits (insertions, deletions, \
            substitutions) over reference digits. Fine-tuning starts from \(sources.map(\.name).joined(separator: ", ")) \
            (seed by seed in turn); training from scratch from a random initialization of the same model. Both follow \
            wav2vec 2.0's fine-tuning recipe for an hour of labels or less (base_10m.yaml): dropout \(e.dropout), attention \
            dropout \(e.attentionDropout), activation dropout \(e.activationDropout), layerdrop \(e.layerDrop), final dropout \
            \(config.finalDropout); time masking p \(config.fineTuneMasking.probability) in spans of \(config.fineTuneMasking.spanLength) \
            frames and channel masking p \(config.channelMasking.probability) in spans of \(config.channelMasking.spanLength) \
            channels; \(config.freezeUpdates > 0 ? "the pretrained encoder frozen for the first \(config.freezeUpdates) updates (freeze_finetune_updates)" : "no frozen start (freeze_finetune_updates 0: see README)"); \
            \(cnnRule); Adam and the tri-stage schedule on batches of strings of similar length, run side by side on \
            the two cores, under one budget rule: \(budgetRule) (with every labelled string at most \
            \(config.recognitionBudget(1).maximumSteps) updates, for the chapter's 10 minutes); with fewer than \(budget.minimumExamplesForValidation) \
            labelled strings nothing is held out, training makes \(budget.maximumEpochsWithoutValidation ?? budget.maximumEpochs) passes and the last parameters \
            are kept. Peak learning rates, each the best of a grid on strings made of held-out training clips \
            (--validation): fine-tuned \(rates(config.fineTuningRates)); from scratch \(rates(config.scratchRates)).
            """)
        print("  labelled strings  seed   fine-tuned DER (updates)   scratch DER (updates)")
        var bestFineTuned: (model: SpeechRecognizer, errorRate: Float)?
        for fraction in result.fractions {
            let start = Date()
            let count = max(2, Int((fraction * Double(trainStrings.count)).rounded()))
            result.labelledStrings[fraction] = count
            let seeds = config.recognitionSeeds[fraction] ?? 1
            // For each seed, its labelled strings; on them, a recognizer from data2vec and one from scratch that share the
            // initialization of everything but the backbone.
            let jobs = (0..<seeds).flatMap { seed in [false, true].map { (seed: seed, scratch: $0) } }
            let outcomes = try jobs.mapSideBySide { seed, scratch -> (errorRate: Float, report: TrainingReport, model: SpeechRecognizer) in
                var pick = RandomGenerator(seed: options.seed.derived("labelled strings \(count)", seed))
                let labelled = Array(pick.permutation(trainStrings.count).prefix(count))
                var initRNG = RandomGenerator(seed: options.seed.derived("recognizer \(count)", seed))
                let backbone = SpeechBackbone(frontEnd: config.frontEnd, encoder: config.fineTuneEncoder, using: &initRNG)
                if !scratch, let url = sources[seed % sources.count].checkpoint { try Checkpoint.load(url, into: backbone) }
                let model = SpeechRecognizer(backbone: backbone, symbols: 11, framesPerStep: config.ctcFramesPerStep,
                                             dropout: config.finalDropout, using: &initRNG)
                var optimization = config.fineTuning
                optimization.peakLearningRate = (scratch ? config.scratchRates[fraction] : config.fineTuningRates[fraction]) ?? optimization.peakLearningRate
                let (errorRate, report) = trainRecognizer(model, optimization, config.recognitionBudget(fraction), config, freezeUpdates: scratch ? 0 : config.freezeUpdates,
                                                          train: trainStrings, labelled: labelled, test: testStrings,
                                                          seed: options.seed.derived("fine-tune \(count)", seed))
                return (errorRate, report, model)
            }
            for seed in 0..<seeds {
                let tuned = zip(jobs, outcomes).first { $0.0.seed == seed && !$0.0.scratch }!.1
                let scratch = zip(jobs, outcomes).first { $0.0.seed == seed && $0.0.scratch }!.1
                result.fineTuned[fraction, default: SeedStatistics()].append(tuned.errorRate)
                result.scratch[fraction, default: SeedStatistics()].append(scratch.errorRate)
                result.fineTunedSteps[fraction, default: []].append(tuned.report.steps)
                result.scratchSteps[fraction, default: []].append(scratch.report.steps)
                print(String(format: "  %16d  %4d        %6.1f%% (%5d)          %6.1f%% (%5d)", count, seed, 100 * tuned.errorRate,
                             tuned.report.steps, 100 * scratch.errorRate, scratch.report.steps))
                if tuned.errorRate < bestFineTuned?.errorRate ?? .infinity { bestFineTuned = (tuned.model, tuned.errorRate) }
            }
            print(String(format: "  (%.0f%% of the strings: %.0f s)", 100 * fraction, Date().timeIntervalSince(start)))
            fflush(nil)
        }
        print("\n  labelled strings   fine-tuned from data2vec     trained from scratch")
        for fraction in result.fractions {
            print(String(format: "  %5.0f%% (%4d)      ", 100 * fraction, result.labelledStrings[fraction] ?? 0)
                  + (result.fineTuned[fraction]?.summary() ?? "-").padding(toLength: 29, withPad: " ", startingAt: 0)
                  + (result.scratch[fraction]?.summary() ?? "-"))
        }
        print("  (digit error rate; +- is half the range over seeds; updates: "
              + result.fractions.map { String(format: "%.0f%%: %@ / %@", 100 * $0, "\(result.fineTunedSteps[$0] ?? [])", "\(result.scratchSteps[$0] ?? [])") }.joined(separator: "; ") + ")")
        chapter.figure("06-error-rate-vs-labels.png") { path throws(PlotError) in
            var figure = Figure(title: "Digit error rate on \(testStrings.count) test strings against labelled training strings",
                                xLabel: "labelled training strings", yLabel: "digit error rate (%)")
            for (name, values) in [("fine-tuned from data2vec", result.fineTuned), ("trained from scratch", result.scratch)] {
                let fractions = result.fractions.filter { values[$0] != nil }
                figure.add(.lineWithRanges(x: fractions.map { Double(result.labelledStrings[$0]!) }, y: fractions.map { 100 * Double(values[$0]!.mean) },
                                           low: fractions.map { 100 * Double(values[$0]!.values.min()!) }, high: fractions.map { 100 * Double(values[$0]!.values.max()!) },
                                           title: name))
            }
            figure.logScaleX = true
            // Error rates above 100% (inserted digits) stay inside the axes.
            let highest = [result.fineTuned, result.scratch].flatMap { $0.values.flatMap(\.values) }.max() ?? 1
            figure.yRange = 0...max(100, (100 * Double(highest) / 10).rounded(.up) * 10)
            figure.extraSettings = ["set key bottom left inside"]
            try figure.render(to: path)
        }
        if let best = bestFineTuned { posteriorFigure(chapter, best.model, testStrings[0]) }
        // Goals with few labels only: with every string the labelled and the unlabelled audio are the same clips.
        if !options.quick {
            for fraction in result.fractions where fraction < 1 {
                guard let tuned = result.fineTuned[fraction], let scratch = result.scratch[fraction] else { continue }
                chapter.outcome(tuned.mean < scratch.mean,
                              String(format: "with %.0f%% of the labelled strings, fine-tuning from data2vec beats training from scratch (DER %.1f%% vs %.1f%%)",
                                     100 * fraction, 100 * tuned.mean, 100 * scratch.mean))
                if abs(fraction - 0.1) < 1e-9 {
                    chapter.outcome(tuned.mean <= 0.6 * scratch.mean && tuned.mean < 0.3,
                                    String(format: "with 10%% of the labelled strings, fine-tuning reaches at most 0.6 times scratch's error rate and below 30%% (%.1f%% vs %.1f%%: %.2f times)",
                                           100 * tuned.mean, 100 * scratch.mean, tuned.mean / scratch.mean))
                }
            }
        }
        return result
    }

    /// Trains a recognizer on the `labelled` strings under the chapter's budget; returns its test error rate.
    /// The encoder is frozen (only the output layer learns) for the first `freezeUpdates` updates.
    func trainRecognizer(_ model: SpeechRecognizer, _ optimization: AdamWConfiguration, _ budget: TrainingBudget, _ config: SpeechConfig, freezeUpdates: Int,
                         train: [DigitString], labelled: [Int], test: [DigitString], seed: UInt64) -> (errorRate: Float, report: TrainingReport) {
        var maskRNG = RandomGenerator(seed: seed.derived("validation masks"))
        var updates = 0
        func errorRateOn(_ strings: [DigitString], _ indices: [Int]) -> Float {
            var hypotheses: [[Int]] = [], references: [[Int]] = []
            for chunk in chunks(indices, size: 16) {
                let (logits, lengths) = model(AudioBatch(chunk.map { strings[$0].samples }), frozenCNN: false)
                hypotheses += greedyDecode(logits: logits, lengths: lengths).map { $0.map { $0 - 1 } }
                references += chunk.map { strings[$0].digits }
            }
            return errorRate(hypotheses: hypotheses, references: references)
        }
        let report = trainWithEarlyStopping(
            model, optimization: optimization, examples: labelled, labels: [Int](repeating: 0, count: train.count),
            budget: budget, seed: seed, lengths: { train[$0].samples.count },
            loss: { batch in
                let audio = AudioBatch(batch.map { train[$0].samples })
                let lengths = model.backbone.frontEnd.frameLengths(audio)
                let mask = config.fineTuneMasking.probability > 0
                    ? config.fineTuneMasking(batchSize: batch.count, length: lengths.max()!, validLengths: lengths, using: &maskRNG) : nil
                let channels = config.channelMasking.probability > 0
                    ? config.channelMasking(batchSize: batch.count, length: config.encoder.dimension, using: &maskRNG) : nil
                updates += 1
                let (logits, frames) = model(audio, frozenCNN: config.frozenCNN, mask: mask, channelMask: channels, frozenBackbone: updates <= freezeUpdates)
                return Tensor.ctcLoss(logits: logits, inputLengths: frames, targets: batch.map { train[$0].digits.map { $0 + 1 } })
            },
            score: { -errorRateOn(train, $0) })
        return (Tensor.withoutGradients { errorRateOn(test, Array(test.indices)) }, report)
    }

    /// The recognizer's per-frame probabilities of each digit for one test string, with the greedy path.
    func posteriorFigure(_ chapter: Chapter, _ model: SpeechRecognizer, _ string: DigitString) {
        model.eval()
        let (logits, lengths) = Tensor.withoutGradients { model(AudioBatch([string.samples]), frozenCNN: false) }
        let t = lengths[0]
        let probabilities = Tensor.withoutGradients { logits.softmax(alongAxis: -1) }
        let decoded = greedyDecode(logits: logits, lengths: lengths)[0].map { $0 - 1 }
        chapter.figure("06-ctc-posteriors.png") { path throws(PlotError) in
            var figure = Figure(title: "CTC posteriors for the string \(string.digits.map(String.init).joined()) (read: \(decoded.map(String.init).joined()))",
                                xLabel: "CTC step (\(model.framesPerStep * 10) ms)", yLabel: "probability")
            let frames = (0..<t).map(Double.init)
            figure.add(.line(x: frames, y: (0..<t).map { Double(probabilities[0, $0, 0]) }, title: "blank", width: 1))
            for digit in 0..<10 where (0..<t).contains(where: { probabilities[0, $0, digit + 1] > 0.2 }) {
                figure.add(.line(x: frames, y: (0..<t).map { Double(probabilities[0, $0, digit + 1]) }, title: "\(digit)", width: 2))
            }
            figure.yRange = 0...1.05
            try figure.render(to: path)
        }
    }
}
