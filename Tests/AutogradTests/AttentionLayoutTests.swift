// The fused attention op stores A transposed (Ops+Attention.swift). Its dropout mask must still give each
// weight the draw it had in row-major order, so that a seed drops the same weights in either layout.
@testable import Autograd
import Testing

@Suite("Attention's transposed layout")
struct AttentionLayoutTests {
    /// The mask written as A^T, read back at (key j, query i), equals the mask drawn in row-major order
    /// from the same words, four 16-bit draws per word, lane l holding bits 16 l ..< 16 l + 16.
    @Test(arguments: [(49, 56, Float(0.1)), (8, 8, 0.5), (13, 16, 0.05), (64, 64, 0.3)])
    func theTransposedMaskKeepsEachWeightsDraw(count: Int, width: Int, probability: Float) {
        var rng = RandomGenerator(seed: 44)
        let words = (0..<(count * width / 4)).map { _ in rng.next() }
        var mask = [Float](repeating: .nan, count: count * width)
        words.withUnsafeBufferPointer { w in
            mask.withUnsafeMutableBufferPointer { drawDropMask(from: w.baseAddress!, into: $0.baseAddress!, count: count, width: width, probability: probability) }
        }
        let threshold = UInt32((Double(probability) * 65_536).rounded()), keep = 1 / (1 - probability)
        var dropped = 0
        for query in 0..<count {
            for key in 0..<count {
                let index = query * width + key  // the draw's place in row-major order
                let draw = UInt32(truncatingIfNeeded: words[index / 4] >> UInt64(16 * (index % 4)) & 0xFFFF)
                let expected: Float = draw < threshold ? 0 : keep
                #expect(mask[key * width + query] == expected, "query \(query), key \(key)")
                if expected == 0 { dropped += 1 }
            }
        }
        for key in 0..<count {  // the columns past the last query only pad the rows: 0
            #expect(mask[(key * width + count)..<((key + 1) * width)].allSatisfy { $0 == 0 })
        }
        // The share dropped is near the probability (a check on the draws, not only on their order).
        let share = Double(dropped) / Double(count * count)
        #expect(Swift.abs(share - Double(probability)) < 4 * (Double(probability) * (1 - Double(probability)) / Double(count * count)).squareRoot() + 0.01)
    }
}
