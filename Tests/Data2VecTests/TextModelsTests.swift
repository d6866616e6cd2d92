// Chapter 07's other models (Sources/Data2Vec/Text/TextBackbone.swift, MaskedLanguageModel.swift and
// SentenceClassifier.swift): RoBERTa's tied masked-LM head, the masked-LM trainer that data2vec is compared
// with, and the sentence classifier fine-tuned on SST-2.
import Autograd
import Foundation
@testable import Data2Vec
import NN
import Optim
import Testing

@Suite("Text models")
struct TextModelsTests {
    static let vocabulary = 50

    func backbone(seed: UInt64 = 0, dropout: Float = 0.1) -> TextBackbone {
        var rng = RandomGenerator(seed: seed)
        var frontEnd = TextFrontEndConfiguration(vocabularySize: TextModelsTests.vocabulary, dimension: 16)
        frontEnd.maxPositions = 40
        frontEnd.dropout = dropout
        let encoder = TransformerConfiguration(blockCount: 2, dimension: 16, headCount: 2, feedForwardDimension: 32, placement: .postLN,
                                               dropout: dropout, attentionDropout: dropout, initializer: .normal(std: 0.02))
        return TextBackbone(frontEnd: frontEnd, encoder: encoder, using: &rng)
    }

    /// Rows "<s> w1 ... wn </s>" with ordinary tokens 4...(4 + spread - 1).
    func rows(_ count: Int, length: Int, spread: Int = 40, seed: UInt64) -> [[Int]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in [0] + (0..<length).map { _ in 4 + rng.int(below: spread) } + [2] }
    }

    /// The head's output weights are the token embedding itself, not a copy: one tensor, listed once.
    @Test func theOutputLayerIsTiedToTheTokenEmbedding() {
        var rng = RandomGenerator(seed: 1)
        let model = backbone()
        let trainer = MaskedLanguageModelTrainer(backbone: model, optimization: AdamWConfiguration(peakLearningRate: 1e-3), totalSteps: 10, using: &rng)
        #expect(trainer.head.embedding === model.frontEnd.tokens.weight)
        #expect(!trainer.head.parameters.contains { $0 === model.frontEnd.tokens.weight })
        #expect(trainer.head.namedParameters.map(\.name).sorted() == ["bias", "dense.bias", "dense.weight", "norm.bias", "norm.weight"])
    }

    /// Finite differences through dense -> GELU -> LayerNorm -> the tied product, including the embedding.
    @Test func headGradientsIncludingTheTiedEmbedding() {
        var rng = RandomGenerator(seed: 2)
        let embedding = Tensor.normal([7, 4], using: &rng, requiresGradient: true)
        let head = LanguageModelHead(embedding: embedding, using: &rng)
        // Unit-scale weights (held in variables: their storage must outlive the copies): with the initial std of
        // 0.02 the LayerNorm would see inputs smaller than the finite-difference step.
        let bias = Tensor.normal([7], using: &rng), dense = Tensor.normal([4, 4], using: &rng)
        head.bias.storage.pointer.update(from: bias.storage.pointer, count: 7)
        head.dense.weight.storage.pointer.update(from: dense.storage.pointer, count: 16)
        let x = Tensor.normal([3, 4], using: &rng, requiresGradient: true)
        let report = GradientCheck.check([x, embedding] + head.parameters, tolerance: 1e-2) { _ in
            Loss.crossEntropy(logits: head(x), labels: [1, 6, 3])
        }
        #expect(report.passed, "\(report)")
    }

    /// At initialization the logits are nearly equal (embedding std 0.02, bias 0), so the cross-entropy at the
    /// chosen positions is close to ln V = ln 50 = 3.912, and the accuracy close to chance.
    @Test func initialLossIsTheLogOfTheVocabulary() {
        var rng = RandomGenerator(seed: 3)
        let model = backbone()
        let trainer = MaskedLanguageModelTrainer(backbone: model, optimization: AdamWConfiguration(peakLearningRate: 1e-3), totalSteps: 10, using: &rng)
        let (loss, positions, correct) = trainer.evaluate(TextBatch(rows(16, length: 30, seed: 4)), using: &rng)
        // Each row of 30 ordinary tokens: int(0.15 * 30 + U[0, 1)) = 4 or 5 chosen positions.
        #expect(positions >= 16 * 4 && positions <= 16 * 5)
        #expect(abs(loss.item - Float(log(50.0))) < 0.05)
        #expect(correct < positions / 4)
    }

    /// A language of one sentence, 4 5 6 ... 13 4 5 6 ...: the token at a position is always the same, so the
    /// learned position embeddings alone can predict it, and a masked LM learns that in a few dozen steps (from
    /// ln 50 = 3.9 to ln 10 = 2.3 once it knows the ten tokens, and on to near 0 once it knows the positions).
    @Test func aMaskedLanguageModelLearnsARepeatingPattern() {
        var rng = RandomGenerator(seed: 5)
        let model = backbone(dropout: 0)
        let optimization = AdamWConfiguration(peakLearningRate: 5e-3, warmupFraction: 0.1, finalFraction: 0.1)
        let trainer = MaskedLanguageModelTrainer(backbone: model, optimization: optimization, totalSteps: 150, using: &rng)
        let batch = TextBatch((0..<16).map { _ in [0] + (0..<30).map { 4 + $0 % 10 } + [2] })
        var first: Float = 0, last = LanguageModelMetrics(loss: 0, accuracy: 0, learningRate: 0)
        for step in 0..<150 {
            last = trainer.step(batch, using: &rng)
            if step == 0 { first = last.loss }
        }
        #expect(first > 3.5)
        #expect(last.loss < 0.5 && last.accuracy > 0.9, "loss \(first) -> \(last.loss), accuracy \(last.accuracy)")
    }

    /// In evaluation mode a sentence gets the same logits alone and padded inside a batch, and the classifier
    /// gives [B, classes].
    @Test(arguments: SentencePooling.allCases) func classifierIgnoresPadding(pooling: SentencePooling) {
        var rng = RandomGenerator(seed: 6)
        let classifier = SentenceClassifier(backbone: backbone(), classCount: 2, pooling: pooling, using: &rng)
        classifier.eval()
        let short = [0, 7, 8, 9, 2]
        let alone = classifier(TextBatch([short]))
        let padded = classifier(TextBatch([[0, 10, 11, 12, 13, 14, 15, 2], short]))
        #expect(alone.shape == [1, 2] && padded.shape == [2, 2])
        #expect(zip(alone.scalars, padded.scalars[2..<4]).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// The two poolings feed the same head different vectors: the output at <s>, or the mean of the tokens.
    @Test func thePoolingChoosesWhatTheHeadReads() {
        var rng = RandomGenerator(seed: 8)
        let first = SentenceClassifier(backbone: backbone(), classCount: 2, pooling: .first, using: &rng)
        let mean = SentenceClassifier(backbone: backbone(), classCount: 2, pooling: .mean, using: &rng)
        mean.copyParameters(from: first)
        first.eval()
        mean.eval()
        let batch = TextBatch([[0, 7, 8, 9, 2]])
        let pooled = mean.backbone.sentenceFeatures(batch, pooling: .mean)
        let byHand = mean.output(mean.dense(pooled).tanh())
        #expect(zip(mean(batch).scalars, byHand.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(first(batch).scalars, mean(batch).scalars).contains { abs($0 - $1) > 1e-4 })
    }

    /// The hidden-token features: the tokens returned are the originals at the positions shown as <mask>, the
    /// same generator state gives the same positions, and each row is the encoder's output at its position when
    /// the row is encoded with those positions masked.
    @Test func maskedTokenFeaturesAreTheOutputAtTheHiddenPositions() {
        let model = backbone()
        model.eval()
        let rows = self.rows(3, length: 12, seed: 4)
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let (features, tokens) = model.maskedTokenFeatures(rows, fraction: 0.3, using: &a)
        let again = model.maskedTokenFeatures(rows, fraction: 0.3, using: &b)
        #expect(features.shape == [tokens.count, 16] && !tokens.isEmpty)
        #expect(again.tokens == tokens && again.features.scalars == features.scalars)
        // Redo the draws by hand: the same uniform draw per ordinary token, in order.
        var c = RandomGenerator(seed: 9)
        var masked = rows, positions: [(Int, Int)] = []
        for (r, row) in rows.enumerated() {
            for (t, token) in row.enumerated() where token >= 4 && c.uniformDouble() < 0.3 {
                masked[r][t] = TextModelsTests.vocabulary - 1
                positions.append((r, t))
            }
        }
        #expect(positions.map { rows[$0.0][$0.1] } == tokens)
        let batch = TextBatch(rows)
        let x = model.encoder(model.frontEnd.embed(masked, positionsOf: batch, applyDropout: false), keyPaddingMask: nil).output
        let t = rows[0].count
        for (n, (r, p)) in positions.enumerated() {
            for k in 0..<16 { #expect(abs(features.scalars[n * 16 + k] - x.scalars[(r * t + p) * 16 + k]) < 1e-5) }
        }
    }

    /// With `hiding` false the same positions are picked and the rows are encoded as they are.
    @Test func tokensLeftInViewAreReadAtTheSamePositions() {
        let model = backbone()
        model.eval()
        let rows = self.rows(2, length: 10, seed: 5)
        var a = RandomGenerator(seed: 11), b = RandomGenerator(seed: 11)
        let hidden = model.maskedTokenFeatures(rows, fraction: 0.4, using: &a)
        let shown = model.maskedTokenFeatures(rows, fraction: 0.4, hiding: false, using: &b)
        #expect(shown.tokens == hidden.tokens && !shown.tokens.isEmpty)
        let x = model.encode(TextBatch(rows)).output.output
        var c = RandomGenerator(seed: 11), n = 0
        for (r, row) in rows.enumerated() {
            for (t, token) in row.enumerated() where token >= 4 && c.uniformDouble() < 0.4 {
                for k in 0..<16 { #expect(abs(shown.features.scalars[n * 16 + k] - x.scalars[(r * row.count + t) * 16 + k]) < 1e-5) }
                n += 1
            }
        }
        #expect(n == shown.tokens.count)
    }

    /// The mean- and max-pooled sentence features read the valid tokens only (the second sentence, 3 tokens long,
    /// is padded to 6); the first-token features are row 0.
    @Test func sentenceFeaturesPoolTheValidTokens() {
        let model = backbone()
        model.eval()
        let batch = TextBatch([[0, 7, 8, 9, 10, 2], [0, 11, 2]])
        let x = model.encode(batch).output.output
        let mean = model.sentenceFeatures(batch, pooling: .mean), first = model.sentenceFeatures(batch, pooling: .first)
        let largest = model.sentenceFeatures(batch, pooling: .max)
        let d = 16
        for k in 0..<d {
            let valid = (0..<3).map { x.scalars[(6 + $0) * d + k] }
            #expect(abs(mean.scalars[d + k] - valid.reduce(0, +) / 3) < 1e-5)
            #expect(largest.scalars[d + k] == valid.max()!)
            #expect(first.scalars[d + k] == x.scalars[6 * d + k])
        }
    }

    /// Max pooling's gradient reaches only the position that holds each channel's maximum, never a padded one
    /// (there the values are larger than any valid one, and must still lose).
    @Test func maxPoolingSkipsPaddingInTheGradient() {
        let x = Tensor(shape: [1, 3, 2], [1, 5, 4, 2, 9, 9], requiresGradient: true)
        let pooled = maxOverValidPositions(x, validLengths: [2])
        #expect(pooled.scalars == [4, 5])
        pooled.sum().backward()
        #expect(x.grad!.scalars == [0, 1, 1, 0, 0, 0])
    }
}
