// BERT masking (Devlin et al., 2019; fairseq `MaskTokensDataset`): choose 15% of the tokens
// (never special tokens such as <s>, </s>, <pad>); of the chosen, 80% become <mask>, 10% a random token,
// 10% stay unchanged. data2vec's text loss uses only the positions that show <mask> (fairseq
// `src_tokens.eq(mask_idx)`, fairseq#4229); `Result` keeps both sets.
import Autograd

/// BERT's token masking, with the positions chosen and the positions that show <mask> kept apart.
public struct BERTMasking: Sendable {
    /// The fraction of eligible tokens chosen (0.15).
    public var selectionProbability: Double
    /// Of the chosen, the fraction shown as <mask> (0.8).
    public var maskProbability: Double
    /// Of the chosen, the fraction replaced by a random ordinary token (0.1); the rest stay unchanged.
    public var randomProbability: Double
    /// The id of <mask>.
    public let maskToken: Int
    /// Ids are 0..<vocabularySize.
    public let vocabularySize: Int
    /// Token ids that are never chosen (and never drawn as random replacements).
    public let specialTokens: Set<Int>

    /// BERT masking with the given probabilities; `specialTokens` (and <mask>) are never chosen or drawn.
    public init(maskToken: Int, vocabularySize: Int, specialTokens: Set<Int>, selectionProbability: Double = 0.15,
                maskProbability: Double = 0.8, randomProbability: Double = 0.1) {
        require(maskProbability + randomProbability <= 1, "BERTMasking: mask + random probabilities exceed 1")
        self.maskToken = maskToken
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens.union([maskToken])
        self.selectionProbability = selectionProbability
        self.maskProbability = maskProbability
        self.randomProbability = randomProbability
    }

    /// A masked batch.
    public struct Result: Sendable {
        /// The student's input tokens.
        public var tokens: [[Int]]
        /// Positions chosen for prediction (15%).
        public var selected: Mask
        /// Positions that show <mask> (the 80%): where data2vec's text loss is computed.
        public var showsMaskToken: Mask
    }

    /// Masks each row; the number chosen per row is round(p * eligible) with probabilistic rounding, at least 1.
    public func callAsFunction(_ tokens: [[Int]], using rng: inout RandomGenerator) -> Result {
        let length = tokens.first?.count ?? 0
        var output = tokens
        var selected = [[Bool]](repeating: [Bool](repeating: false, count: length), count: tokens.count)
        var showsMask = selected
        let ordinary = (0..<vocabularySize).filter { !specialTokens.contains($0) }
        for (b, row) in tokens.enumerated() {
            let eligible = row.indices.filter { !specialTokens.contains(row[$0]) }
            guard !eligible.isEmpty else { continue }
            let count = max(1, min(eligible.count, Int(selectionProbability * Double(eligible.count) + rng.uniformDouble())))
            for pick in rng.choose(count, from: eligible.count) {
                let t = eligible[pick]
                selected[b][t] = true
                let u = rng.uniformDouble()
                if u < maskProbability {
                    output[b][t] = maskToken
                    showsMask[b][t] = true
                } else if u < maskProbability + randomProbability {
                    output[b][t] = ordinary[rng.int(below: ordinary.count)]
                }
            }
        }
        return Result(tokens: output, selected: Mask(selected), showsMaskToken: Mask(showsMask))
    }
}
