// Multi-head scaled dot-product attention as one op (the fused form of NN/Attention.swift's
// composed reference: Vaswani et al., 2017, section 3.2.1).
//
// For each sample b and head h, with Q, K, V the head's [T, dh] slices and s = 1 / sqrt(dh):
//     S = s Q K^T + mask          A = softmax(S) row by row          O = A V
// Backward, given dO:
//     dV = A^T dO      dA = dO V^T      dS = A * (dA - rowsum(dA * A))      dQ = s dS K      dK = s dS^T Q
//
// Why fuse: the composed version copies Q, K and V out of the packed qkv projection into a
// head-major layout, scales the scores in a separate pass, and copies the context back, forward and
// backward. Here every product reads its operand straight out of the packed [B, T, 3D] tensor
// (sgemm's leading dimension 3D skips the other heads), writes the context straight into [B, T, D]
// (leading dimension D), and folds s into sgemm's alpha. The (b, h) pairs are independent, so they
// are split across threads (Parallel.swift). The result equals the composed ops' to rounding; the
// tests check both the values and the gradients.
//
// Attention dropout (the paper's student: 0.1 for speech and text, 0.05 for vision) multiplies A by a
// random mask M of 0 and 1 / (1 - p) before the product with V: O = (A * M) V. Backward then uses
// A * M for dV, and dA = (dO V^T) * M before the softmax rule. M is drawn per (b, h) pair from its own
// generator seeded by (seed, pair), so the result does not depend on how the pairs are split across threads.
import Foundation

/// Dropout on the attention weights inside the fused op: the drop probability and a seed for the masks.
public struct AttentionDropout: Sendable {
    /// The probability of dropping each attention weight, in [0, 1).
    public var probability: Float
    /// Seeds the masks (each (sample, head) pair draws its own from it).
    public var seed: UInt64
    /// Dropout at `probability` with masks drawn from `seed`.
    public init(probability: Float, seed: UInt64) {
        require(probability >= 0 && probability < 1, "AttentionDropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.seed = seed
    }
}

extension Tensor {
    /// Multi-head attention over a packed projection.
    ///
    /// - Parameters:
    ///   - qkv: [B, T, 3D], the output of one Linear(D, 3D): columns 0..<D are the queries, D..<2D the
    ///     keys, 2D..<3D the values; head h owns columns h*dh..<(h+1)*dh of each, dh = D / headCount.
    ///   - headCount: H.
    ///   - keyPaddingMask: [B, T] with 1 at padded keys (they get -inf before the softmax), else 0.
    ///   - dropout: dropout on the attention weights (training only), or nil.
    ///   - returnWeights: also return the attention weights (a copy, for plots).
    /// - Returns: the context [B, T, D] (heads concatenated, ready for the output projection) and, when
    ///   asked, the attention weights A [B, H, T, T] before dropout (no gradient flows through them).
    public static func multiHeadAttention(packed qkv: Tensor, headCount: Int, keyPaddingMask: Tensor? = nil,
                                          dropout: AttentionDropout? = nil, returnWeights: Bool = false) -> (context: Tensor, weights: Tensor?) {
        guard qkv.rank == 3, qkv.shape[2] % (3 * headCount) == 0 else {
            shapeFailure(ShapeError("multiHeadAttention: packed qkv must be [B, T, 3D] with D divisible by \(headCount) heads, got \(qkv.shape)"))
        }
        let (b, t, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
        let h = headCount, dh = d / h
        if let keyPaddingMask, keyPaddingMask.shape != [b, t] {
            shapeFailure(ShapeError("multiHeadAttention: key padding mask \(keyPaddingMask.shape) does not match [\(b), \(t)]"))
        }
        // Each row of A is stored with a stride of `tp`, T rounded up to a multiple of 8: the extra columns
        // hold -inf before the softmax (so exactly 0 after it), and every row is whole SIMD8 groups.
        let tp = (t + 7) / 8 * 8
        // Per sample, what is added to each row of scores: 0 at a valid key, -inf at a padded key and in the
        // columns t..<tp that only pad the row to a multiple of 8.
        let keyBias = TensorStorage(uninitializedCount: b * tp)
        for sample in 0..<b {
            for key in 0..<tp {
                let isPadded = key >= t || (keyPaddingMask.map { $0.storage.pointer[sample * t + key] != 0 } ?? false)
                keyBias.pointer[sample * tp + key] = isPadded ? -.infinity : 0
            }
        }
        let scale = 1 / Float(dh).squareRoot()
        let input = qkv.storage.pointer
        let weights = TensorStorage(uninitializedCount: b * h * t * tp)
        let context = TensorStorage(uninitializedCount: b * t * d)
        let dropMask = dropout.flatMap { $0.probability > 0 ? TensorStorage(uninitializedCount: b * h * t * tp) : nil }
        let dropProbability = dropout?.probability ?? 0, dropSeed = dropout?.seed ?? 0

        // Pair p = (sample p / H, head p % H): where its Q, K, V, A and O live.
        func q(_ p: Int) -> Int { (p / h) * t * 3 * d + (p % h) * dh }  // K at q + D, V at q + 2D; rows 3D apart
        func o(_ p: Int) -> Int { (p / h) * t * d + (p % h) * dh }      // rows D apart
        func a(_ p: Int) -> Int { p * t * tp }                           // rows tp apart

        // Who owns the cores: a product of at least BLAS.splitThreshold multiply-adds is split across the
        // threads by BLAS.sgemm itself. Below that, the (sample, head) pairs are split across threads here;
        // above it, the pairs run one after another and each product is split. Doing both at once (threaded
        // products inside threaded pairs) made a speech fine-tuning step 2.5 times slower than one thread.
        let pairChunk = t * t * dh < BLAS.splitThreshold ? 1 : b * h

        /// Writes A * M of pair p into `out` (t * tp floats).
        func applyDropMask(_ p: Int, _ out: UnsafeMutablePointer<Float>) {
            mapLanes(weights.pointer + a(p), dropMask!.pointer + a(p), out, t * tp) { $0 * $1 }
        }

        Parallel.forEachChunk(of: b * h, minimumPerChunk: pairChunk) { pairs in
            let dropped = dropMask.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: t * tp) }
            defer { dropped?.deallocate() }
            for p in pairs {
                let scores = weights.pointer + a(p)
                BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: dh, alpha: scale,
                           a: input + q(p), lda: 3 * d, b: input + q(p) + d, ldb: 3 * d, beta: 0, c: scores, ldc: tp)
                Lane.softmaxRows(scores, rows: t, width: tp, keyBias: keyBias.pointer + (p / h) * tp)
                var probabilities = UnsafePointer(scores)
                if let dropMask, let dropped {
                    var rng = RandomGenerator(seed: dropSeed &+ UInt64(p) &* 0x9E37_79B9_7F4A_7C15)
                    let mask = dropMask.pointer + a(p), keep = 1 / (1 - dropProbability)
                    // Four 16-bit draws from each 64 random bits (the generator was a tenth of a speech step): an
                    // element is dropped when its draw is below p 2^16, so p is honoured to 1 / 65,536. The draws
                    // are compared four at a time (lane j holds bits 16 j ..< 16 j + 16); t * tp is a multiple of 8.
                    let threshold = SIMD4<UInt32>(repeating: UInt32((Double(dropProbability) * 65_536).rounded()))
                    let (zero, kept) = (SIMD4<Float>(repeating: 0), SIMD4<Float>(repeating: keep))
                    var i = 0
                    while i < t * tp {
                        let draws = SIMD4<UInt32>(truncatingIfNeeded: unsafeBitCast(rng.next().littleEndian, to: SIMD4<UInt16>.self))
                        UnsafeMutableRawPointer(mask + i).storeBytes(of: kept.replacing(with: zero, where: draws .< threshold), as: SIMD4<Float>.self)
                        i += 4
                    }
                    applyDropMask(p, dropped)
                    probabilities = UnsafePointer(dropped)
                }
                BLAS.sgemm(transposeA: false, transposeB: false, m: t, n: dh, k: t,
                           a: probabilities, lda: tp, b: input + q(p) + 2 * d, ldb: 3 * d, beta: 0, c: context.pointer + o(p), ldc: d)
            }
        }
        let weightsTensor = returnWeights ? Tensor(shape: [b, h, t, t], storage: compactRows(weights, rows: b * h * t, width: t, stride: tp),
                                                   operation: "attentionWeights") : nil
        let output = Tensor.result("multiHeadAttention", shape: [b, t, d], storage: context, inputs: [qkv]) { result in
            let g = result.grad!.storage.pointer, input = result.parents[0].storage.pointer
            let (dqkv, isFresh) = result.parents[0].gradientBufferForOverwrite()
            let beta: Float = isFresh ? 0 : 1  // every element of a fresh buffer is written exactly once below
            Parallel.forEachChunk(of: b * h, minimumPerChunk: pairChunk) { pairs in
                // The padding columns of dScores are never written by sgemm: zero them once, so they stay 0.
                let dScores = UnsafeMutablePointer<Float>.allocate(capacity: t * tp)
                dScores.initialize(repeating: 0, count: t * tp)
                let dropped = dropMask.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: t * tp) }
                defer { dScores.deallocate(); dropped?.deallocate() }
                for p in pairs {
                    let attention = weights.pointer + a(p)
                    let (qp, kp, vp) = (input + q(p), input + q(p) + d, input + q(p) + 2 * d)
                    // dA = dO V^T (times the dropout mask), then dS = A * (dA - rowsum(dA * A)) in place.
                    BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: dh,
                               a: g + o(p), lda: d, b: vp, ldb: 3 * d, beta: 0, c: dScores, ldc: tp)
                    var probabilities = UnsafePointer(attention)  // what multiplied V in the forward pass
                    if let dropMask, let dropped {
                        mapLanes(dScores, dropMask.pointer + a(p), dScores, t * tp) { $0 * $1 }
                        applyDropMask(p, dropped)
                        probabilities = UnsafePointer(dropped)
                    }
                    Lane.softmaxGradientRows(dScores, attention: attention, rows: t, width: tp)
                    // dV = A^T dO, dQ = s dS K, dK = s dS^T Q, each into its columns of d(qkv).
                    BLAS.sgemm(transposeA: true, transposeB: false, m: t, n: dh, k: t,
                               a: probabilities, lda: tp, b: g + o(p), ldb: d, beta: beta, c: dqkv + q(p) + 2 * d, ldc: 3 * d)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: t, n: dh, k: t, alpha: scale,
                               a: dScores, lda: tp, b: kp, ldb: 3 * d, beta: beta, c: dqkv + q(p), ldc: 3 * d)
                    BLAS.sgemm(transposeA: true, transposeB: false, m: t, n: dh, k: t, alpha: scale,
                               a: dScores, lda: tp, b: qp, ldb: 3 * d, beta: beta, c: dqkv + q(p) + d, ldc: 3 * d)
                }
            }
        }
        return (output, weightsTensor)
    }
}

/// Rows of `width` floats stored `stride` apart, copied into a contiguous [rows, width] buffer.
func compactRows(_ source: TensorStorage, rows: Int, width: Int, stride: Int) -> TensorStorage {
    let out = TensorStorage(uninitializedCount: rows * width)
    for r in 0..<rows { (out.pointer + r * width).update(from: source.pointer + r * stride, count: width) }
    return out
}
