// What an encoder's output at a hidden token says about that token. The masked language model answers with
// its own head; data2vec has no head over the vocabulary, so chapter 07 fits the same linear probe on both
// encoders' outputs at the hidden positions of held-out text: one question, asked of both.
import Autograd
import Datasets
import NN

extension Backbone where FrontEnd == TextFrontEnd {
    /// Hides about `fraction` of the ordinary tokens of each row (each shown as <mask>; none replaced by a
    /// random token or left as it is), encodes the rows, and returns the last block's output at the hidden
    /// positions, [N, D], with the tokens that were there, [N], row by row and left to right. With `hiding` false
    /// the same positions are picked but the tokens stay in view (what the output says about its own input
    /// token). Call it in evaluation mode and without gradients; the positions depend only on `rng` and the rows.
    public func maskedTokenFeatures(_ rows: [[Int]], fraction: Double, hiding: Bool = true, chunkSize: Int = 64,
                                    using rng: inout RandomGenerator) -> (features: Tensor, tokens: [Int]) {
        let mask = frontEnd.configuration.vocabularySize - 1
        let specials: Set<Int> = [BytePairEncoding.beginning, BytePairEncoding.padding, BytePairEncoding.end, BytePairEncoding.unknown]
        var pieces: [Tensor] = [], hidden: [Int] = []
        for start in stride(from: 0, to: rows.count, by: chunkSize) {
            let batch = TextBatch(Array(rows[start..<min(rows.count, start + chunkSize)]))
            var corrupted = batch.tokens, positions: [Int] = []
            for (b, row) in batch.tokens.enumerated() {
                for (t, token) in row.enumerated() where !specials.contains(token) && rng.uniformDouble() < fraction {
                    if hiding { corrupted[b][t] = mask }
                    positions.append(b * row.count + t)
                    hidden.append(token)
                }
            }
            guard !positions.isEmpty else { continue }
            let x = encoder(frontEnd.embed(corrupted, positionsOf: batch, applyDropout: false), keyPaddingMask: batch.keyPaddingMask).output
            pieces.append(x.reshaped([-1, x.shape[2]]).indexSelect(positions, along: 0))
        }
        let d = encoder.configuration.dimension
        return (pieces.isEmpty ? Tensor.zeros([0, d]) : Tensor.concatenate(pieces, along: 0), hidden)
    }
}
