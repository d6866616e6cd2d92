// Chapter 06, section 3: which digit is it? A linear probe on frozen features, against a random encoder and
// against the classical features of speech, log-mel filterbank energies.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import NN
import Plot

/// Probe accuracies over seeds for each kind of feature.
struct SpeechProbe {
    var data2vec = SeedStatistics(), random = SeedStatistics(), logMel = SeedStatistics()
}

extension Chapter06 {
    /// Each clip's pooled encoder output, [N, D] for the clips at `indices` (in order), in evaluation mode.
    func pooledFeatures(_ backbone: SpeechBackbone, _ data: SpeechData, _ indices: [Int]) -> Tensor {
        backbone.eval()
        var rng = RandomGenerator(seed: 0)  // the batches' order only: the features do not depend on it
        let batches = lengthBucketedBatches(Array(indices.indices), lengths: { data.digits.clips[indices[$0]].count }, size: 64, using: &rng)
        var rows = [Tensor?](repeating: nil, count: indices.count)
        for batch in batches {
            let features = Tensor.withoutGradients { backbone.pooledFeatures(data.digits.batch(batch.map { indices[$0] }, using: &rng)) }
            for (k, position) in batch.enumerated() { rows[position] = features.sliced(k..<(k + 1), along: 0) }
        }
        return Tensor.concatenate(rows.map { $0! }, along: 0)
    }

    /// Log-mel energies averaged over each clip's frames, with their standard deviation: [N, 2 x 40].
    func logMelFeatures(_ data: SpeechData, _ indices: [Int]) -> Tensor {
        let melSpectrogram = LogMelSpectrogram(sampleRate: SpokenDigits.sampleRate)
        let rows = indices.map { i -> [Float] in
            let mel = melSpectrogram(data.digits.clips[i])  // [frames, 40]
            let mean = mel.mean(alongAxes: [0]), deviation = mel.variance(alongAxes: [0]).squareRoot()
            return mean.scalars + deviation.scalars
        }
        return Tensor(shape: [indices.count, 2 * melSpectrogram.bandCount], rows.flatMap { $0 })
    }

    func probeSection(_ chapter: Chapter, _ config: SpeechConfig, data: SpeechData, checkpoint: URL) throws -> SpeechProbe {
        chapter.section("3. Which digit? A linear probe on frozen features")
        var rng = RandomGenerator(seed: options.seed.derived("random encoder"))
        let random = SpeechBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let pretrained = SpeechBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        try Checkpoint.load(checkpoint, into: pretrained)
        chapter.say("""
            Each clip becomes one vector: the encoder's output averaged over the clip's frames. LayerNorm + Linear \
            is trained on the \(data.train.count) training clips' vectors with their digits, and tested on the \
            \(data.test.count) test clips (\(data.splitDescription)). The same probe reads a randomly initialized \
            encoder, and log-mel filterbank energies (25 ms windows every 10 ms, 40 bands; mean and standard \
            deviation over the clip's frames: 80 numbers, computed with one matrix product per clip, \
            Sources/Datasets/LogMelSpectrogram.swift), the classical features of speech recognition.
            """)
        let trainLabels = data.train.map { data.digits.digits[$0] }, testLabels = data.test.map { data.digits.digits[$0] }
        let ((features, logMel), seconds) = measure {
            ((pretrained: (pooledFeatures(pretrained, data, data.train), pooledFeatures(pretrained, data, data.test)),
              random: (pooledFeatures(random, data, data.train), pooledFeatures(random, data, data.test))),
             (logMelFeatures(data, data.train), logMelFeatures(data, data.test)))
        }
        print("  features of \(data.train.count + data.test.count) clips from two encoders and log-mel in \(formatDuration(seconds))")
        var result = SpeechProbe()
        let all = Array(0..<data.train.count)
        for seed in 0..<config.probeSeeds {
            func probe(_ train: Tensor, _ test: Tensor) -> Float {
                LinearProbe.accuracy(trainFeatures: train, trainLabels: trainLabels, labelled: all, testFeatures: test, testLabels: testLabels,
                                     classCount: 10, configuration: config.probe, seed: UInt64(seed))
            }
            result.data2vec.append(probe(features.pretrained.0, features.pretrained.1))
            result.random.append(probe(features.random.0, features.random.1))
            result.logMel.append(probe(logMel.0, logMel.1))
            print(String(format: "  seed %d: data2vec %.1f%%, random encoder %.1f%%, log-mel %.1f%%", seed, 100 * result.data2vec.values.last!,
                         100 * result.random.values.last!, 100 * result.logMel.values.last!))
        }
        print("  probe accuracy: data2vec \(result.data2vec.summary()), random encoder \(result.random.summary()), log-mel \(result.logMel.summary())")
        chapter.figure("06-probe.png") { path throws(PlotError) in
            var figure = Figure(title: "Spoken digit classification from frozen features (\(data.test.count) test clips, mean over \(config.probeSeeds) seeds, bars from lowest to highest)",
                                yLabel: "test accuracy (%)")
            let probes = [result.data2vec, result.random, result.logMel]
            figure.add(.bars(categories: ["data2vec encoder", "random encoder", "log-mel filterbanks"],
                             series: [("linear probe", probes.map { 100 * Double($0.mean) })],
                             ranges: [(probes.map { 100 * Double($0.values.min()!) }, probes.map { 100 * Double($0.values.max()!) })]))
            figure.yRange = 0...100
            try figure.render(to: path)
        }
        if !options.quick {
            // A goal, not a claim: what one pretraining run of this recipe learns moves with its seed (chapters/06-speech/README.md).
            chapter.outcome(result.data2vec.mean >= result.random.mean + 0.10,
                            String(format: "the data2vec probe beats the random encoder's by at least 10 points (%.1f%% vs %.1f%%)",
                                   100 * result.data2vec.mean, 100 * result.random.mean))
            chapter.outcome(result.data2vec.mean > result.logMel.mean,
                            String(format: "the data2vec probe beats log-mel statistics (%.1f%% vs %.1f%%)", 100 * result.data2vec.mean, 100 * result.logMel.mean))
        }
        return result
    }
}
