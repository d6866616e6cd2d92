// The text front end of data2vec (fairseq `examples/data2vec/models/data2vec_text.py`, whose encoder is
// fairseq's `TransformerEncoder` with `layernorm_embedding` and learned positions):
//
//   x = LayerNorm(E[token] + P[position]) -> dropout           E: token embedding, P: learned positions
//
// where the padding token's row of E is zero and positions count the non-padding tokens from 2 (fairseq
// `make_positions`: padding gets position 1, the padding index, whose row is also zero). The student reads
// the masked tokens (BERT: 15% chosen, 80% of them shown as <mask>, 10% a random token, 10% unchanged); the
// teacher reads the original tokens; the loss is taken where the student's input shows <mask> (fairseq
// `masked_indices = src_tokens.eq(self.mask_idx)`). The embedding, positions and their LayerNorm are shared
// with the teacher (fairseq copies them each step: `embed_tokens`, `embed_positions`, `layernorm_embedding`
// are skip keys of its EMA).
import Autograd
import Datasets
import NN

/// Token ids of a batch, each row padded with `BytePairEncoding.padding` to the longest row.
public struct TextBatch: Sendable {
    /// B rows of T ids (padded).
    public var tokens: [[Int]]
    /// Each row's length before padding.
    public var lengths: [Int]

    /// Rows of any lengths, padded to the longest.
    public init(_ rows: [[Int]]) {
        let longest = rows.map(\.count).max() ?? 0
        tokens = rows.map { $0 + [Int](repeating: BytePairEncoding.padding, count: longest - $0.count) }
        lengths = rows.map(\.count)
    }

    /// [B, T], 1 at padding.
    public var keyPaddingMask: Tensor? {
        let t = tokens.first?.count ?? 0
        guard lengths.contains(where: { $0 < t }) else { return nil }
        return Tensor(shape: [tokens.count, t], tokens.flatMap { $0.map { $0 == BytePairEncoding.padding ? Float(1) : 0 } })
    }
}

/// How the student's tokens are corrupted.
public enum TextMasking: Sendable, Equatable {
    /// BERT's: a fraction chosen (0.15), of which 80% <mask>, 10% random, 10% unchanged (the paper's main result).
    case bert(selection: Double)
    /// The "wav2vec 2.0 masking" of data2vec's shipped config: spans of `length` tokens started with
    /// probability p / length (`mask_prob 0.35, mask_multiple_length 4`), every one shown as <mask>.
    case spans(probability: Double, length: Int)
}

/// The sizes and the masking of the text front end.
public struct TextFrontEndConfiguration: Sendable, Equatable {
    /// V, <mask> (the last id) included.
    public var vocabularySize: Int
    /// D.
    public var dimension: Int
    /// The longest sequence the learned positions cover (`max_source_positions`).
    public var maxPositions = 512
    /// How the student's text is corrupted.
    public var masking = TextMasking.bert(selection: 0.15)
    /// fairseq `dropout` after the embedding LayerNorm.
    public var dropout: Float = 0.1
    /// BERT's initialization N(0, 0.02) (`init_bert_params`).
    public var initializer = Initializer.normal(std: 0.02)

    /// The defaults for a vocabulary and a width.
    public init(vocabularySize: Int, dimension: Int) {
        self.vocabularySize = vocabularySize
        self.dimension = dimension
    }
}

/// Token ids -> the student's and the teacher's encoder inputs [B, T, D].
public final class TextFrontEnd: ConfiguredFrontEnd {
    /// What one batch of this modality is.
    public typealias Batch = TextBatch

    /// The sizes, masking and dropout.
    public let configuration: TextFrontEndConfiguration
    /// E [V, D]; the padding row starts at 0.
    public let tokens: Embedding
    /// P [maxPositions + 2, D]; the padding row starts at 0.
    public let positions: Embedding
    /// fairseq `layernorm_embedding`.
    public let embeddingNorm: LayerNorm
    /// Dropout after the embedding LayerNorm.
    public let dropout: Dropout
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A freshly initialized front end.
    public init(_ configuration: TextFrontEndConfiguration, using rng: inout RandomGenerator) {
        let c = configuration
        self.configuration = c
        tokens = Embedding(count: c.vocabularySize, dimension: c.dimension, initializer: c.initializer, using: &rng)
        positions = Embedding(count: c.maxPositions + BytePairEncoding.padding + 1, dimension: c.dimension, initializer: c.initializer, using: &rng)
        for table in [tokens.weight, positions.weight] {  // the padding rows start at zero (`padding_idx`)
            (table.storage.pointer + BytePairEncoding.padding * c.dimension).update(repeating: 0, count: c.dimension)
        }
        embeddingNorm = LayerNorm(c.dimension)
        dropout = Dropout(c.dropout, using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        [("tokens", tokens), ("positions", positions), ("embeddingNorm", embeddingNorm), ("dropout", dropout)]
    }

    /// fairseq `make_positions`: padding gets the padding index; other tokens count up from it + 1.
    public static func positionIDs(_ batch: TextBatch) -> [Int] {
        batch.tokens.flatMap { row -> [Int] in
            var count = 0
            return row.map { token in
                guard token != BytePairEncoding.padding else { return BytePairEncoding.padding }
                count += 1
                return BytePairEncoding.padding + count
            }
        }
    }

    /// LayerNorm(E[tokens] + P[positions]), then dropout when `applyDropout` (and in training mode): [B, T, D].
    public func embed(_ tokenRows: [[Int]], positionsOf batch: TextBatch, applyDropout: Bool = true) -> Tensor {
        let shape = [tokenRows.count, tokenRows.first?.count ?? 0]
        require(tokenRows.flatMap { $0 }.allSatisfy { $0 >= 0 && $0 < configuration.vocabularySize },
                "TextFrontEnd: a token id is outside the vocabulary of \(configuration.vocabularySize)")
        require(batch.lengths.allSatisfy { $0 <= configuration.maxPositions },
                "TextFrontEnd: a sentence of \(batch.lengths.max() ?? 0) tokens is longer than maxPositions = \(configuration.maxPositions); cut it or raise maxPositions")
        let x = embeddingNorm(tokens(tokenRows.flatMap { $0 }, shape: shape) + positions(TextFrontEnd.positionIDs(batch), shape: shape))
        return applyDropout ? dropout(x) : x
    }

    /// The unmasked encoder input for downstream use, [B, T, D].
    public func encoderInput(_ batch: TextBatch) -> Tensor { embed(batch.tokens, positionsOf: batch) }

    /// The whole batch as the encoder's input [B, T, D], and each sentence's length in tokens.
    public func unmaskedInput(_ batch: TextBatch) -> (input: Tensor, validLengths: [Int]?) { (encoderInput(batch), batch.lengths) }

    /// Corrupts the batch for the student; returns both views and where the loss is taken (<mask> positions).
    public func inputs(for batch: TextBatch, using rng: inout RandomGenerator) -> Data2VecInputs {
        let corrupted = corrupt(batch, using: &rng)
        let student = embed(corrupted.tokens, positionsOf: batch)
        let teacher = Tensor.withoutGradients { embed(batch.tokens, positionsOf: batch, applyDropout: false) }
        return Data2VecInputs(student: student, teacher: teacher, mask: corrupted.showsMaskToken, validLengths: batch.lengths)
    }

    /// The student's tokens, the positions chosen for prediction, and the positions that show <mask>.
    public func corrupt(_ batch: TextBatch, using rng: inout RandomGenerator) -> BERTMasking.Result {
        let mask = configuration.vocabularySize - 1
        let specials: Set<Int> = [BytePairEncoding.beginning, BytePairEncoding.padding, BytePairEncoding.end, BytePairEncoding.unknown]
        switch configuration.masking {
        case .bert(let selection):
            return BERTMasking(maskToken: mask, vocabularySize: configuration.vocabularySize, specialTokens: specials,
                               selectionProbability: selection)(batch.tokens, using: &rng)
        case .spans(let probability, let length):
            return spanMasked(batch.tokens, maskToken: mask, specials: specials, probability: probability, length: length, using: &rng)
        }
    }
}

/// Span masking of tokens: per row, n = int(p * eligible / length + U[0, 1)) spans (at least one) of `length`
/// tokens start at distinct eligible positions; every covered non-special token is replaced by <mask>
/// (fairseq `MaskTokensDataset` with `mask_multiple_length`, no random or unchanged tokens).
func spanMasked(_ tokens: [[Int]], maskToken: Int, specials: Set<Int>, probability: Double, length: Int,
                using rng: inout RandomGenerator) -> BERTMasking.Result {
    var output = tokens
    var chosen = tokens.map { [Bool](repeating: false, count: $0.count) }
    for (b, row) in tokens.enumerated() {
        let eligible = row.indices.filter { !specials.contains(row[$0]) }
        guard !eligible.isEmpty else { continue }
        let spans = max(1, min(eligible.count, Int(probability * Double(eligible.count) / Double(length) + rng.uniformDouble())))
        for pick in rng.choose(spans, from: eligible.count) {
            for t in eligible[pick]..<min(row.count, eligible[pick] + length) where !specials.contains(row[t]) {
                chosen[b][t] = true
                output[b][t] = maskToken
            }
        }
    }
    return BERTMasking.Result(tokens: output, selected: Mask(chosen), showsMaskToken: Mask(chosen))
}
