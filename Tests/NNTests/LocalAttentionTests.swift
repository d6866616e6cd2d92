// The band mask of data2vec's target-context ablation (Sources/NN/LocalAttention.swift): hand-derived biases, no
// weight outside a window, the whole input leaving attention exactly as it was, and no NaN from a padded window.
import Autograd
@testable import NN
import Testing

@Suite("Local attention")
struct LocalAttentionTests {
    /// Four steps, radius 1: query i sees i - 1, i, i + 1. Row i is the query, column j the key.
    @Test func sequenceBandByHand() {
        let bias = localAttentionBias(coordinates: sequenceCoordinates(4), radius: 1).scalars
        let x: Float = -1e9
        #expect(bias == [0, 0, x, x,
                         0, 0, 0, x,
                         x, 0, 0, 0,
                         x, x, 0, 0])
    }

    /// A 3 x 3 grid, radius 1: the centre sees all 9 patches, a corner its 2 x 2 square, an edge a 2 x 3 block;
    /// a leading token without coordinates (a CLS token) sees and is seen by everything.
    @Test func gridSquaresAndUnrestrictedTokens() {
        let grid: [[Int]?] = [nil] + (0..<9).map { [$0 / 3, $0 % 3] }
        let bias = localAttentionBias(coordinates: grid, radius: 1)
        func visible(_ query: Int) -> Int { (0..<10).filter { bias.scalars[query * 10 + $0] == 0 }.count }
        #expect(visible(0) == 10)            // the CLS token
        #expect(visible(1 + 4) == 10)        // the centre: 9 patches and the CLS token
        #expect(visible(1 + 0) == 5)         // a corner: 4 patches and the CLS token
        #expect(visible(1 + 1) == 7)         // an edge: 6 patches and the CLS token
        #expect((0..<10).allSatisfy { bias.scalars[$0 * 10] == 0 })  // everyone sees the CLS token
    }

    @Test func noQueryAttendsOutsideItsWindow() {
        var rng = RandomGenerator(seed: 80)
        let attention = MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng)
        let t = 9, bias = localAttentionBias(coordinates: sequenceCoordinates(t), radius: 2)
        let weights = attention(Tensor.normal([2, t, 8], using: &rng), attentionBias: bias, returnWeights: true).weights!
        for index in 0..<weights.count {
            let (query, key) = ((index / t) % t, index % t)
            if abs(query - key) > 2 { #expect(weights.scalars[index] == 0) } else { #expect(weights.scalars[index] > 0) }
        }
    }

    /// A radius that reaches every position adds zeros: the encoder's output is bit for bit the unrestricted one.
    @Test func wholeInputWindowEqualsUnrestrictedAttentionExactly() {
        var rng = RandomGenerator(seed: 81)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 2, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .postLN), using: &rng)
        encoder.eval()
        let x = Tensor.normal([2, 7, 8], using: &rng)
        let whole = localAttentionBias(coordinates: sequenceCoordinates(7), radius: 6)
        #expect(whole.scalars.allSatisfy { $0 == 0 })
        #expect(encoder(x, attentionBias: whole).output.scalars == encoder(x).output.scalars)
        // A narrower window does change it.
        #expect(encoder(x, attentionBias: localAttentionBias(coordinates: sequenceCoordinates(7), radius: 1)).output.scalars
                != encoder(x).output.scalars)
    }

    /// A padded query whose whole window is padding attends to the valid keys outside it (finite -1e9), not 0/0.
    @Test func aWindowOfPaddingStaysFinite() {
        var rng = RandomGenerator(seed: 82)
        let attention = MultiHeadSelfAttention(dimension: 8, headCount: 2, using: &rng)
        let padding = Tensor(shape: [1, 6], [0, 0, 1, 1, 1, 1])
        let y = attention(Tensor.normal([1, 6, 8], using: &rng), keyPaddingMask: padding,
                          attentionBias: localAttentionBias(coordinates: sequenceCoordinates(6), radius: 1)).output
        #expect(y.scalars.allSatisfy { $0.isFinite })
    }

    /// The bias is a constant: gradients flow through the restricted attention as through any other (checked
    /// against finite differences).
    @Test func gradientThroughARestrictedAttention() {
        var rng = RandomGenerator(seed: 83)
        let attention = MultiHeadSelfAttention(dimension: 4, headCount: 2, using: &rng)
        let bias = localAttentionBias(coordinates: sequenceCoordinates(5), radius: 1)
        let x = Tensor.normal([1, 5, 4], using: &rng)
        x.requiresGradient = true
        let report = GradientCheck.check([x] + attention.parameters) { inputs in attention(inputs[0], attentionBias: bias).output }
        #expect(report.passed, "\(report)")
    }
}
