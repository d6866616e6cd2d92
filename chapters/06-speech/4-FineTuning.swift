// Chapter 06, section 4: the same few labels, now training the whole encoder. A pretrained encoder fine-tuned
// to read one clip's digit, against the same network trained from scratch on the same clips: what the paper
// reports for speech is fine-tuning, not frozen features, and this is where a pretraining that the probes of
// section 3 cannot see may still show.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Optim

/// What section 4 measured: per arm, test accuracy per labelled count over the draws, and the updates taken.
struct DigitFineTuning {
    var counts: [Int] = []
    var fineTuned: [Int: SeedStatistics] = [:], scratch: [Int: SeedStatistics] = [:]
    var fineTunedSteps: [Int: [Int]] = [:], scratchSteps: [Int: [Int]] = [:]
    /// The frozen logistic probe on the same draws (section 3's headline encoders), for the comparison.
    var frozen: [Int: Float] = [:]
}

extension Chapter06 {
    func fineTuningSection(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, fewLabels: FewLabelDigits) throws -> DigitFineTuning {
        var result = DigitFineTuning()
        guard let evaluation = fewLabels.evaluation else { return result }
        result.counts = config.classifyLabelsPerDigit.map { 10 * $0 }.filter(evaluation.draws.counts.contains)
        let draws = min(config.classifyDraws, evaluation.draws.seeds)
        guard !result.counts.isEmpty, draws > 0 else { return result }
        chapter.section("4. Which digit? Fine-tuning the whole encoder on the same few labels")
        let sources = fewLabels.sources
        let budget = config.classifyBudget
        let e = config.fineTuneEncoder
        chapter.say("""
            The labelled clips of section 3's first \(draws) draws now train the whole network: the encoder, the mean of \
            its output over the clip's frames and one Linear layer to the 10 digits (SUPERB's keyword spotting head; \
            Hugging Face's Data2VecAudioForSequenceClassification, Sources/Data2Vec/Speech/SpeechClassifier.swift), with \
            cross-entropy. Fine-tuning starts from \(sources.map(\.name).joined(separator: ", ")) (draw d from the \
            d-th in turn, so the spread covers pretraining seeds too); from scratch is the same network from a \
            random initialization. Both follow section 6's fine-tuning dropouts (wav2vec 2.0's base_10m.yaml: dropout \
            \(e.dropout), attention dropout \(e.attentionDropout), activation dropout \(e.activationDropout), layerdrop \
            \(e.layerDrop)) \(config.classifyMaskProbability == 0 ? "but not its masking: time masking hides at least one span of \(config.fineTuneMasking.spanLength) frames in every clip (fairseq's min_masks), 40% of a 50-frame digit, and with it both arms read worse at every rate tried on the validation split (results/trials/ch06-classify-rates.txt)" : "with time and channel masking at p \(config.classifyMaskProbability)"); and one \
            budget rule: at most \(budget.maximumSteps) updates of \(budget.batchSize) clips; from \
            \(budget.minimumExamplesForValidation) labelled clips on, \(Int(100 * budget.validationFraction))% of them held \
            out, validated every \(budget.maximumStepsBetweenValidations) updates, stopped after \(budget.patience) \
            validations without improvement (not before \(budget.minimumSteps)), keeping the best. Peak learning rates, \
            each arm's best on the validation split (--validation): fine-tuned \(config.classifyFineTuningRate), from \
            scratch \(config.classifyScratchRate).
            """)
        let jobs = result.counts.flatMap { count in (0..<draws).flatMap { draw in [false, true].map { (count: count, draw: draw, scratch: $0) } } }
        let start = Date()
        let outcomes = try jobs.mapSideBySide { job -> (accuracy: Float, report: TrainingReport) in
            let labelled = evaluation.draws.subset(job.count, seed: job.draw)
            var initRNG = RandomGenerator(seed: options.seed.derived("digit classifier \(job.count)", job.draw))
            let backbone = SpeechBackbone(frontEnd: config.frontEnd, encoder: config.fineTuneEncoder, using: &initRNG)
            if !job.scratch, let url = sources[job.draw % sources.count].checkpoint { try Checkpoint.load(url, into: backbone) }
            let model = SpeechClassifier(backbone: backbone, classCount: 10, dropout: config.finalDropout, using: &initRNG)
            var optimization = config.fineTuning
            optimization.peakLearningRate = job.scratch ? config.classifyScratchRate : config.classifyFineTuningRate
            return trainClassifier(model, optimization, config, data: data, labelled: labelled,
                                   seed: options.seed.derived("fine-tune digits \(job.count)", job.draw))
        }
        for (job, outcome) in zip(jobs, outcomes) {
            if job.scratch {
                result.scratch[job.count, default: SeedStatistics()].append(outcome.accuracy)
                result.scratchSteps[job.count, default: []].append(outcome.report.steps)
            } else {
                result.fineTuned[job.count, default: SeedStatistics()].append(outcome.accuracy)
                result.fineTunedSteps[job.count, default: []].append(outcome.report.steps)
            }
        }
        for count in result.counts {
            // The frozen probe's mean over the same draws and the same encoders.
            let runs = fewLabels.method("\(fewLabels.headline), logistic") ?? []
            let values = (0..<draws).compactMap { draw in runs.isEmpty ? nil : runs[draw % runs.count].scores[count]?[draw] }
            result.frozen[count] = values.isEmpty ? .nan : values.reduce(0, +) / Float(values.count)
        }
        print("\n  labelled clips per digit   fine-tuned from data2vec   trained from scratch     frozen + logistic (section 3)")
        for count in result.counts {
            print(String(format: "  %24d   ", count / 10) + (result.fineTuned[count]?.summary() ?? "-").padding(toLength: 27, withPad: " ", startingAt: 0)
                  + (result.scratch[count]?.summary() ?? "-").padding(toLength: 25, withPad: " ", startingAt: 0)
                  + String(format: "%.1f%%", 100 * (result.frozen[count] ?? .nan)))
        }
        print(String(format: "  (test accuracy, %d draws; +- is half the range; updates: ", draws)
              + result.counts.map { "\($0 / 10) per digit \(result.fineTunedSteps[$0] ?? []) / \(result.scratchSteps[$0] ?? [])" }.joined(separator: "; ")
              + String(format: "; %.0f s)", Date().timeIntervalSince(start)))
        if !options.quick {
            for count in result.counts {
                guard let tuned = result.fineTuned[count], let scratch = result.scratch[count] else { continue }
                chapter.outcome(tuned.mean > scratch.mean, String(format: "with %d labelled clips per digit, fine-tuning from data2vec beats training from scratch (%.1f%% vs %.1f%%)",
                                                                 count / 10, 100 * tuned.mean, 100 * scratch.mean))
            }
        }
        return result
    }

    /// Trains a digit classifier on the `labelled` training clips under the chapter's budget; returns its test
    /// accuracy and what the training did.
    func trainClassifier(_ model: SpeechClassifier, _ optimization: AdamWConfiguration, _ config: SpeechConfig, data: SpeechData,
                         labelled: [Int], seed: UInt64) -> (accuracy: Float, report: TrainingReport) {
        var rng = RandomGenerator(seed: seed.derived("masks"))
        var (timeMasking, channelMasking) = (config.fineTuneMasking, config.channelMasking)
        (timeMasking.probability, channelMasking.probability) = (Double(config.classifyMaskProbability), Double(config.classifyMaskProbability))
        func accuracy(_ clips: [Int]) -> Float {
            var correct: Float = 0
            // Sorted by length, so that little of a batch is padding (a clip's encoding does not depend on its batch).
            for chunk in chunks(clips.sorted { data.digits.clips[$0].count < data.digits.clips[$1].count }, size: 64) {
                let logits = model(data.digits.batch(chunk, using: &rng))
                correct += Float(chunk.count) * Evaluation.accuracy(logits: logits, labels: chunk.map { data.digits.digits[$0] })
            }
            return correct / Float(max(clips.count, 1))
        }
        let report = trainWithEarlyStopping(
            model, optimization: optimization, examples: labelled, labels: data.digits.digits, budget: config.classifyBudget, seed: seed,
            lengths: { data.digits.clips[$0].count },
            loss: { batch in
                let audio = data.digits.batch(batch, using: &rng)
                let lengths = model.backbone.frontEnd.frameLengths(audio)
                let mask = timeMasking.probability > 0
                    ? timeMasking(batchSize: batch.count, length: lengths.max()!, validLengths: lengths, using: &rng) : nil
                let channels = channelMasking.probability > 0
                    ? channelMasking(batchSize: batch.count, length: config.encoder.dimension, using: &rng) : nil
                return Loss.crossEntropy(logits: model(audio, mask: mask, channelMask: channels), labels: batch.map { data.digits.digits[$0] })
            },
            score: accuracy)
        return (Tensor.withoutGradients { accuracy(data.test) }, report)
    }
}
