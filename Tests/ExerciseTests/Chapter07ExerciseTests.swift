// The answer key of chapter 07's exercises: the part of each answer that can be checked in seconds.
import Autograd
@testable import Data2Vec
@testable import Datasets
import Evaluation
import Foundation
import NN
import Testing

@Suite("Chapter 07 exercises")
struct Chapter07ExerciseTests {
    static let text = (try? String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/text/corpus_valid.txt"), encoding: .utf8)) ?? ""

    /// Exercise 1 (--masking spans): spans of 4 started with probability 0.35 / 4 mask about 30% of the tokens
    /// (overlaps make it less than 35%), twice BERT's 15%; every masked token shows <mask>.
    @Test func exercise1_spanMaskingMasksAboutThirtyPercent() throws {
        var rng = RandomGenerator(seed: 71)
        let rows = (0..<200).map { _ in [0] + (0..<62).map { _ in 4 + rng.int(below: 4000) } + [2] }
        let result = spanMasked(rows, maskToken: 4095, specials: [0, 1, 2, 3], probability: 0.35, length: 4, using: &rng)
        let fraction = Double(result.selected.maskedCounts.reduce(0, +)) / Double(200 * 62)
        #expect(fraction > 0.26 && fraction < 0.34)
        #expect(result.selected == result.showsMaskToken)

        // The chapter's run (the README's outcome): with spans the masked LM does no better than the most
        // frequent token on the held-out novel, while with BERT masking it does; no SST-2 ranking changes by more
        // than the seeds' spread.
        func heldOut(_ name: String) throws -> (accuracy: Double, unigram: Double) {
            let log = try ExerciseLog(name), line = try #require(log.lines(containing: "masked LM: last loss").first)
            let percentages = line.split(separator: " ").filter { $0.hasSuffix("%)") || $0.hasSuffix("%") }
                .compactMap { Double($0.replacingOccurrences(of: "%", with: "").replacingOccurrences(of: ")", with: "")) }
            return (percentages[0], percentages[1])
        }
        let (spans, bert) = (try heldOut("exercises/ch07-masking-spans"), try heldOut("exercises/ch07-earlier-default"))
        #expect(spans.accuracy < 1.5 * spans.unigram && bert.accuracy > 1.5 * bert.unigram)
        let (withSpans, withBERT) = (try Self.sst2("exercises/ch07-masking-spans", labels: "1000"), try Self.sst2("exercises/ch07-earlier-default", labels: "1000"))
        #expect(abs(withSpans.data2vec.mean - withBERT.data2vec.mean) < withSpans.data2vec.spread + withBERT.data2vec.spread)
    }

    /// Exercise 2: a bag of words scores exactly 50% on section 5's test. Each test sentence appears twice, as
    /// itself (label 0) and shifted (label 1), and both copies hold the same words: whatever a bag-of-words
    /// classifier learned, it gives the two the same answer, so exactly one of each pair is right.
    @Test func exercise2_aBagOfWordsScoresHalfOnPairedBigramShift() throws {
        let sentences = BigramShift.sentences(in: String(Chapter07ExerciseTests.text.prefix(80_000)).lowercased(), words: 6...40)
        try #require(sentences.count > 200)
        var rng = RandomGenerator(seed: 72)
        let train = BigramShift.examples(Array(sentences[..<150]), count: 300, using: &rng)
        let test = BigramShift.pairedExamples(Array(sentences[150...]), using: &rng)
        let result = bagOfWordsAccuracy(train: train.texts, labels: train.labels, test: test.texts, testLabels: test.labels, classCount: 2)
        #expect(result.naiveBayes == 0.5 && result.logistic == 0.5)
    }

    /// Exercise 3: a larger vocabulary needs fewer tokens per word.
    @Test func exercise3_moreMergesFewerTokensPerWord() throws {
        let sample = String(Chapter07ExerciseTests.text.prefix(60_000))
        let words = Double(sample.split(separator: " ").count)
        let perWord = try [300, 600, 1200].map { size -> Double in
            let tokenizer = try BytePairEncoding.train(on: sample, vocabularySize: size)
            return Double(tokenizer.encode(sample).count) / words
        }
        #expect(perWord[0] > perWord[1] && perWord[1] > perWord[2])
        #expect(perWord[2] > 1)  // still more than one token per word, with spaces and punctuation
    }

    /// Exercise 4 (--top-k 1): the text target with K = 1 is the last block's FFN output, layer-normalized.
    @Test func exercise4_topOneIsTheLastFeedForwardOutputLayerNormalized() throws {
        var rng = RandomGenerator(seed: 74)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 4, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .postLN), using: &rng)
        encoder.eval()
        let blocks = Tensor.withoutGradients { encoder(Tensor.normal([2, 7, 8], using: &rng), recordBlocks: true).blocks }
        #expect(TargetBuilder(topK: 1, layerwise: .layer)(blocks).scalars == blocks[3].feedForward.layerNorm().scalars)

        // The chapter's run (the README's outcome): with 1,000 labels data2vec's score moves less than the two
        // runs' seed spreads together.
        let (one, three) = (try Self.sst2("exercises/ch07-top-k-1", labels: "1000"), try Self.sst2("exercises/ch07-earlier-default", labels: "1000"))
        #expect(abs(one.data2vec.mean - three.data2vec.mean) < one.data2vec.spread + three.data2vec.spread)
    }

    /// Exercise 5 (--target-norm layer): a block output x[b, t] = s_b + u[b, t], where s_b is the same at every
    /// position of sequence b (a code of the sequence). Layer norm rescales each position over its channels, so s_b
    /// stays in the targets, and context alone predicts it at every masked position; instance norm subtracts every
    /// channel's mean over the sequence, which is s_b plus the mean of u, so s_b cancels exactly and no target
    /// carries a sequence code.
    @Test func exercise5_instanceNormRemovesASequenceCodeFromTheTargets() throws {
        var rng = RandomGenerator(seed: 75)
        let (b, t, d) = (6, 16, 8)
        let code = Tensor.normal([b, 1, d], using: &rng)
        let perToken = Tensor.normal([b, t, d], using: &rng)
        let x = Tensor(shape: [b, t, d], (0..<(b * t * d)).map { i in 3 * code.scalars[(i / (t * d)) * d + i % d] + 0.3 * perToken.scalars[i] })
        let blocks = [BlockOutputs(selfAttention: x, feedForward: x, output: x, attentionWeights: nil)]
        func share(_ targets: Tensor) -> Double {
            var s = SequenceVarianceShare()
            s.add(targets)
            return s.share
        }
        #expect(share(x) > 0.9)
        #expect(share(TargetBuilder(topK: 1, layerwise: .layer)(blocks)) > 0.9)
        #expect(share(TargetBuilder(topK: 1, layerwise: .instance)(blocks)) < 1e-6)

        // The chapter's trial (the README's outcome): after 4,000 steps with layer norm, most of data2vec's last
        // block is a sequence code and less of the token in view is left; with instance norm, neither.
        func lastBlockShare(_ name: String) throws -> Double {
            let log = try ExerciseLog(name)
            let line = try #require(log.lines(containing: "data2vec        block 1").first)
            return try #require(log.numbers(in: line).last)
        }
        let (layer, instance) = (try lastBlockShare("trials/ch07-target-norm-layer"), try lastBlockShare("trials/ch07-target-norm-instance"))
        #expect(layer > 50 && instance < 5)
    }

    /// One row of a log's SST-2 table: each starting point's mean and half-range over its seeds.
    static func sst2(_ name: String, labels: String) throws -> (data2vec: (mean: Double, spread: Double), languageModel: (mean: Double, spread: Double),
                                                              scratch: (mean: Double, spread: Double)) {
        let log = try ExerciseLog(name)
        let line = try #require(log.lines(containing: "% +- ").first { $0.split(separator: " ").first.map(String.init) == labels })
        let n = log.numbers(in: line)   // labels, then mean, spread, seeds for each starting point
        try #require(n.count == 10)
        return ((n[1], n[2]), (n[4], n[5]), (n[7], n[8]))
    }
}
