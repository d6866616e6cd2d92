// Chapter 07, section 3: what the two encoders learned. The hidden token: the masked LM's own accuracy on held-out
// text, and one linear probe for the hidden token on both encoders' outputs (data2vec has no head over the
// vocabulary, so the same probe asks both the same question), the same probe with the token in view, each block's
// share of variance between sequences (is it still a representation of the tokens, or a code of the sequence?);
// and the nearest neighbours of words, in the input embedding and in each encoder's contextual output.
import Autograd
import ChapterKit
import Data2Vec
import Datasets
import Evaluation
import Foundation
import Optim

/// The hidden-token probe's accuracy per encoder, and what it covers.
struct HiddenTokenProbe {
    var accuracy: [String: Float] = [:]
    /// The probe's C per encoder, chosen on the fitting half.
    var regularization: [String: Double] = [:]
    /// The same probe with the token left in view, per encoder (filled by section 3).
    var inView: [String: Float] = [:]
    /// Per encoder, each block's share of output variance between sequences of the validation novel (section 3).
    var sequenceShare: [String: [Double]] = [:]
    /// The accuracy of always guessing the most frequent of the probed tokens.
    var mostFrequent: Float = 0
    var classCount = 0
    /// The share of hidden positions whose token is one of the probed ones.
    var coverage: Float = 0
    var examples = (train: 0, test: 0)
}

extension Chapter07 {
    /// The linear probe for the hidden token: the validation novel's blocks, first half to fit and second half to
    /// score; about `fraction` of the tokens hidden (the same positions for every encoder); the probed tokens are
    /// the `classes` most frequent ones at the hidden positions of the first half; logistic regression (L-BFGS,
    /// C = 1) on standardized features.
    func hiddenTokenProbe(_ encoders: [(name: String, backbone: TextBackbone)], text: TextData, classes: Int, hiding: Bool = true) -> HiddenTokenProbe {
        let half = text.validBlocks.count / 2
        let (fit, score) = (Array(text.validBlocks[..<half]), Array(text.validBlocks[half...]))
        let extracted = encoders.mapSideBySide { _, backbone -> (fit: (features: Tensor, tokens: [Int]), score: (features: Tensor, tokens: [Int])) in
            backbone.eval()
            var rng = RandomGenerator(seed: options.seed.derived("hidden tokens"))
            return Tensor.withoutGradients {
                (backbone.maskedTokenFeatures(fit, fraction: 0.15, hiding: hiding, using: &rng),
                 backbone.maskedTokenFeatures(score, fraction: 0.15, hiding: hiding, using: &rng))
            }
        }
        var result = HiddenTokenProbe()
        guard let first = extracted.first else { return result }
        var counts: [Int: Int] = [:]
        for token in first.fit.tokens { counts[token, default: 0] += 1 }
        let probed = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(classes).map(\.key)
        let classOf = Dictionary(uniqueKeysWithValues: probed.enumerated().map { ($1, $0) })
        let fitRows = first.fit.tokens.indices.filter { classOf[first.fit.tokens[$0]] != nil }
        let scoreRows = first.score.tokens.indices.filter { classOf[first.score.tokens[$0]] != nil }
        let (fitLabels, scoreLabels) = (fitRows.map { classOf[first.fit.tokens[$0]]! }, scoreRows.map { classOf[first.score.tokens[$0]]! })
        result.classCount = probed.count
        result.coverage = Float(scoreRows.count) / Float(max(1, first.score.tokens.count))
        result.examples = (fitRows.count, scoreRows.count)
        result.mostFrequent = Float(scoreLabels.filter { $0 == 0 }.count) / Float(max(1, scoreLabels.count))
        // C is chosen on the fitting half alone: fitted on its first 80%, scored on the rest. L-BFGS stops at a
        // gradient of 1e-4 (accuracy does not move past it; the default 1e-6 takes several times longer).
        var solver = LBFGS()
        solver.gradientTolerance = 1e-4
        let inner = fitRows.count * 4 / 5
        let accuracies = extracted.mapSideBySide { fit, score -> (accuracy: Float, c: Double) in
            let fitFeatures = fit.features.indexSelect(fitRows, along: 0)
            let standardize = FeatureStandardizer(fitting: fitFeatures)
            let x = standardize(fitFeatures)
            let (innerFit, innerScore) = (x.sliced(0..<inner, along: 0), x.sliced(inner..<fitRows.count, along: 0))
            let held = [0.001, 0.01, 0.1, 1].map { c in
                (c, LogisticRegression(features: innerFit, labels: Array(fitLabels[..<inner]), classCount: probed.count, inverseRegularization: c,
                                       solver: solver).accuracy(innerScore, labels: Array(fitLabels[inner...])))
            }
            let c = held.max { $0.1 < $1.1 }!.0
            let probe = LogisticRegression(features: x, labels: fitLabels, classCount: probed.count, inverseRegularization: c, solver: solver)
            return (probe.accuracy(standardize(score.features.indexSelect(scoreRows, along: 0)), labels: scoreLabels), c)
        }
        for (encoder, run) in zip(encoders, accuracies) { (result.accuracy[encoder.name], result.regularization[encoder.name]) = (run.accuracy, run.c) }
        return result
    }

    func learnedSection(_ chapter: Chapter, _ config: TextConfig, text: TextData, pretrained: TextPretraining) -> HiddenTokenProbe {
        chapter.section("3. What the encoders learned: the hidden token, and neighbours in context")
        var rng = RandomGenerator(seed: options.seed.derived("random encoder"))
        let random = TextBackbone(frontEnd: config.frontEnd, encoder: config.encoder, using: &rng)
        let encoders = [("data2vec", pretrained.data2vec), ("masked LM", pretrained.languageModel), ("random encoder", random)]
        var probe = hiddenTokenProbe(encoders, text: text, classes: config.hiddenTokenClasses)
        chapter.say("""
            The masked LM was trained to name the hidden token, and on the validation novel (never pretrained on) its \
            own head does so at \(String(format: "%.1f%%", 100 * pretrained.validationAccuracy)) of the chosen positions. \
            data2vec predicts representations, not tokens; to ask it the same question, 15% of the validation novel's \
            tokens are shown as <mask> and a linear probe (logistic regression) reads the hidden token from each \
            encoder's output there: fitted on the first half of the novel, scored on the second, over the \
            \(probe.classCount) most frequent tokens (\(String(format: "%.0f%%", 100 * probe.coverage)) of the hidden \
            positions; \(probe.examples.train) to fit, \(probe.examples.test) to score; C chosen among 0.001, 0.01, 0.1 and 1 \
            on the fitting half's last fifth).
            """)
        print("  hidden-token probe (second half of the validation novel):")
        for (name, _) in encoders {
            print("    " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%5.1f%%   (C = %g)", 100 * probe.accuracy[name]!, probe.regularization[name]!))
        }
        print(String(format: "    always the most frequent probed token: %.1f%%", 100 * probe.mostFrequent))
        // The same positions with the tokens in view: does the last block still say which token it reads?
        let visible = hiddenTokenProbe(encoders, text: text, classes: config.hiddenTokenClasses, hiding: false)
        chapter.say("""
            The same probe at the same positions with the token left in view asks what the last block still says \
            about the token it reads (a random encoder passes it through its residual connections):
            """)
        for (name, _) in encoders {
            print("    " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: "%5.1f%%   (C = %g)", 100 * visible.accuracy[name]!, visible.regularization[name]!))
        }
        probe.inView = visible.accuracy
        // Where did the token go? Each block's output split into what is the same at every position of a 64-token
        // block of the novel and what varies along it.
        chapter.say("""
            Where the token went: the share of each block's output variance (over the validation novel's tokens) that \
            is the same at every position of a 64-token sequence, the part a code of the whole sequence carries \
            (Sources/Evaluation/SequenceVarianceShare.swift). A representation of the tokens keeps it small.
            """)
        for (name, backbone) in encoders {
            let shares = sequenceShares(backbone, blocks: text.validBlocks)
            probe.sequenceShare[name] = shares
            print("    " + name.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + shares.enumerated().map { String(format: "block %d %4.1f%%", $0 + 1, 100 * $1) }.joined(separator: ", "))
        }

        chapter.say("""
            Nearest neighbours: each word's row of the input embedding, and its vector in context (the encoder's \
            output averaged over the word's occurrences in the validation novel), compared by cosine similarity with \
            those of the 2,000 most frequent tokens there. Tokens with a leading space are written with "Ġ", as \
            GPT-2 does.
            """)
        let words = [" she", " said", " two", " door", " good", " never", " looked"].compactMap { word -> Int? in
            let ids = text.tokenizer.encode(word)
            return ids.count == 1 ? ids[0] : nil
        }
        for (name, backbone) in encoders.prefix(2) {
            let context = contextualVectors(backbone, blocks: text.validBlocks, keep: 2000)
            for id in words {
                let inEmbedding = nearestNeighbours(of: id, among: Array(BytePairEncoding.firstByte..<(config.frontEnd.vocabularySize - 1)),
                                                    vectors: backbone.frontEnd.tokens.weight, count: 5)
                let inContext = context.tokens.contains(id) ? nearestNeighbours(of: id, among: context.tokens, vectors: context.vectors!, count: 5) : []
                print("  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + text.tokenizer.symbol(id).padding(toLength: 9, withPad: " ", startingAt: 0)
                      + "embedding: " + inEmbedding.map { text.tokenizer.symbol($0) }.joined(separator: " ").padding(toLength: 40, withPad: " ", startingAt: 0)
                      + " in context: " + inContext.map { text.tokenizer.symbol($0) }.joined(separator: " "))
            }
        }
        return probe
    }

    /// Per block, the share of its output variance between the sequences `blocks` (nothing hidden, evaluation mode).
    func sequenceShares(_ backbone: TextBackbone, blocks: [[Int]]) -> [Double] {
        backbone.eval()
        var shares = Array(repeating: SequenceVarianceShare(), count: backbone.encoder.configuration.blockCount)
        for start in stride(from: 0, to: blocks.count, by: 64) {
            let chunk = TextBatch(Array(blocks[start..<min(blocks.count, start + 64)]))
            let (encoded, lengths) = Tensor.withoutGradients { backbone.encode(chunk, recordBlocks: true) }
            for (index, record) in encoded.blocks.enumerated() { shares[index].add(record.output, lengths: lengths) }
        }
        return shares.map(\.share)
    }

    /// Each of the `keep` most frequent tokens of `blocks` as the encoder's output averaged over its occurrences,
    /// in evaluation mode: a [V, D] table (rows of other tokens are zero) and the kept tokens.
    func contextualVectors(_ backbone: TextBackbone, blocks: [[Int]], keep: Int) -> (vectors: Tensor?, tokens: [Int]) {
        backbone.eval()
        let (v, d) = (backbone.frontEnd.configuration.vocabularySize, backbone.encoder.configuration.dimension)
        var sums = [Float](repeating: 0, count: v * d), counts = [Int](repeating: 0, count: v)
        for start in stride(from: 0, to: blocks.count, by: 64) {
            let chunk = Array(blocks[start..<min(blocks.count, start + 64)])
            let x = Tensor.withoutGradients { backbone.encode(TextBatch(chunk)).output.output }
            let p = x.storage.pointer, t = x.shape[1]
            for (b, row) in chunk.enumerated() {
                for (i, token) in row.enumerated() where token >= BytePairEncoding.firstByte {
                    counts[token] += 1
                    let (target, source) = (token * d, (b * t + i) * d)
                    for k in 0..<d { sums[target + k] += p[source + k] }
                }
            }
        }
        let kept = counts.indices.filter { counts[$0] > 0 }.sorted { (counts[$0], $1) > (counts[$1], $0) }.prefix(keep)
        guard !kept.isEmpty else { return (nil, []) }
        for token in kept { for k in 0..<d { sums[token * d + k] /= Float(counts[token]) } }
        return (Tensor(shape: [v, d], sums), Array(kept))
    }

    /// The `count` tokens among `candidates` whose rows of `vectors` [V, D] are closest to `id`'s by cosine similarity.
    func nearestNeighbours(of id: Int, among candidates: [Int], vectors: Tensor, count: Int) -> [Int] {
        let d = vectors.shape[1], e = vectors.storage.pointer
        func norm(_ r: Int) -> Float { (0..<d).reduce(0) { $0 + e[r * d + $1] * e[r * d + $1] }.squareRoot() }
        let base = norm(id)
        let scores = candidates.filter { $0 != id }.map { r -> (Int, Float) in
            let dot = (0..<d).reduce(0) { $0 + e[id * d + $1] * e[r * d + $1] }
            return (r, dot / max(1e-8, base * norm(r)))
        }
        return scores.sorted { $0.1 > $1.1 }.prefix(count).map(\.0)
    }
}
