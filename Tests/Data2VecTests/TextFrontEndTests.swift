// The text front end: fairseq's positions, the zero padding rows, and what the student and the teacher see.
import Autograd
@testable import Data2Vec
import Datasets
import Testing

@Suite("Text front end")
struct TextFrontEndTests {
    static let vocabulary = 50
    static var maskToken: Int { vocabulary - 1 }

    func frontEnd(seed: UInt64 = 0, masking: TextMasking = .bert(selection: 0.15)) -> TextFrontEnd {
        var rng = RandomGenerator(seed: seed)
        var configuration = TextFrontEndConfiguration(vocabularySize: TextFrontEndTests.vocabulary, dimension: 8)
        configuration.masking = masking
        configuration.maxPositions = 40
        return TextFrontEnd(configuration, using: &rng)
    }

    /// fairseq `make_positions` with padding index 1: positions = cumsum(not padding) * (not padding) + 1.
    /// Row "<s> 10 11 </s> <pad> <pad>": 2, 3, 4, 5, then 1, 1. The shorter row of a batch is padded at the end.
    @Test func positionsCountTheTokensFromTwoAndPaddingGetsOne() {
        let batch = TextBatch([[0, 10, 11, 2], [0, 12, 2]])
        #expect(batch.tokens[1] == [0, 12, 2, BytePairEncoding.padding])
        #expect(TextFrontEnd.positionIDs(batch) == [2, 3, 4, 5, 2, 3, 4, 1])
    }

    /// The padding rows of E and P start at zero, so a padded position's sum is 0 and LayerNorm maps it to its
    /// bias, 0 at initialization: padding contributes nothing, in fairseq as here.
    @Test func paddedPositionsEmbedToZeroAtInitialization() {
        let model = frontEnd()
        model.eval()
        let x = model.encoderInput(TextBatch([[0, 10, 11, 2], [0, 12, 2]]))
        #expect(x.shape == [2, 4, 8])
        #expect(Array(x.scalars[(7 * 8)..<(8 * 8)]).allSatisfy { $0 == 0 })
        #expect(Array(x.scalars[(6 * 8)..<(7 * 8)]).contains { $0 != 0 })
    }

    /// A sentence embeds the same alone and padded inside a batch: positions count only its own tokens.
    @Test func paddingDoesNotChangeARowsEmbedding() {
        let model = frontEnd()
        model.eval()
        let alone = model.encoderInput(TextBatch([[0, 12, 2]]))
        let padded = model.encoderInput(TextBatch([[0, 10, 11, 13, 2], [0, 12, 2]]))
        #expect(Array(padded.scalars[(5 * 8)..<(8 * 8)]) == alone.scalars)
    }

    /// The student's view is corrupted, the teacher's is the original text without a graph, and the loss is
    /// taken exactly where the student's input shows <mask> (fairseq `src_tokens.eq(mask_idx)`), never at <s>,
    /// </s> or padding.
    @Test func studentSeesCorruptedTokensTeacherSeesTheOriginal() {
        let model = frontEnd(seed: 3)
        var rng = RandomGenerator(seed: 5)
        let rows = (0..<16).map { _ in [0] + (0..<30).map { _ in 4 + rng.int(below: 40) } + [2] }
        let batch = TextBatch(rows)
        var draw = RandomGenerator(seed: 9)
        let corrupted = model.corrupt(batch, using: &draw)
        var again = RandomGenerator(seed: 9)
        let inputs = model.inputs(for: batch, using: &again)
        #expect(inputs.mask == corrupted.showsMaskToken)
        for b in 0..<16 {
            for t in 0..<32 {
                let shows = corrupted.showsMaskToken.isMasked[b][t], chosen = corrupted.selected.isMasked[b][t]
                if shows { #expect(chosen && corrupted.tokens[b][t] == TextFrontEndTests.maskToken) }
                if !chosen { #expect(corrupted.tokens[b][t] == rows[b][t]) }
                if t == 0 || t == 31 { #expect(!chosen) }
            }
        }
        let selected = corrupted.selected.maskedCounts.reduce(0, +), shown = corrupted.showsMaskToken.maskedCounts.reduce(0, +)
        #expect(selected > 0 && shown < selected)  // some chosen tokens were replaced by a random one or kept
        model.eval()
        let original = model.encoderInput(batch)
        #expect(inputs.teacher.scalars == original.scalars)
        #expect(!inputs.teacher.requiresGradient && inputs.student.requiresGradient)
    }

    /// The span variant (the shipped config): every chosen token shows <mask>; spans of 4 cover about 30%.
    @Test func spanMaskingShowsMaskAtEveryChosenToken() {
        let model = frontEnd(masking: .spans(probability: 0.35, length: 4))
        var rng = RandomGenerator(seed: 2)
        let rows = (0..<64).map { _ in [0] + (0..<62).map { _ in 4 + rng.int(below: 40) } + [2] }
        let result = model.corrupt(TextBatch(rows), using: &rng)
        #expect(result.selected == result.showsMaskToken)
        let fraction = Double(result.selected.maskedCounts.reduce(0, +)) / Double(64 * 62)
        #expect(fraction > 0.25 && fraction < 0.35)
    }
}
