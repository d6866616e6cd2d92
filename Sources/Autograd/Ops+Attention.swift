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
// The scores are stored transposed: S^T, one row per key and one column per query (the layout that
// `sgemm` writes as readily as S). The softmax then runs down the columns, sixteen queries per AVX-512
// vector, and a column's maximum and sum are lane-wise operations over the rows, nothing reduced across
// lanes; row by row, those two reductions across the lanes of a 49-float row, with a division, took most
// of the softmax's time. The products take A^T and dS^T with their transpose flags, so nothing is copied.
// Each weight still comes out as the same float: the column kernels add a column's terms in the order the
// row-by-row kernel added a row's (LaneKernels.swift), and OpenBLAS's packing makes a product read the same
// numbers whichever way an operand is stored; swapping the two operands of the score product (K Q^T
// instead of Q K^T) gives the same floats with the SkylakeX kernels and rounds differently with Haswell's,
// and SkylakeX rounds a transposed operand differently at dh = 8 from T = 32 on
// (trial log in the git history: `git log -- results/trials/attention-transposed.txt`).
//
// Attention dropout (the paper's student: 0.1 for speech and text, 0.05 for vision) multiplies A by a
// random mask M of 0 and 1 / (1 - p) before the product with V: O = (A * M) V. Backward then uses
// A * M for dV, and dA = (dO V^T) * M before the softmax rule. M is drawn per (b, h) pair from its own
// generator seeded by (seed, pair), so the result does not depend on how the pairs are split across threads;
// its draws go to the weights in row-major order (query by query), whatever the layout they are stored in.
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
    ///   - attentionBias: [T, T], added to every sample's and head's scores before the softmax: row i is
    ///     query i, column j key j (a constant: no gradient flows into it). `localAttentionBias` makes the
    ///     band that restricts each query to a window of keys (data2vec's target-context ablation).
    ///   - dropout: dropout on the attention weights (training only), or nil.
    ///   - returnWeights: also return the attention weights (a copy, for plots).
    /// - Returns: the context [B, T, D] (heads concatenated, ready for the output projection) and, when
    ///   asked, the attention weights A [B, H, T, T] before dropout (no gradient flows through them).
    public static func multiHeadAttention(packed qkv: Tensor, headCount: Int, keyPaddingMask: Tensor? = nil, attentionBias: Tensor? = nil,
                                          dropout: AttentionDropout? = nil, returnWeights: Bool = false) -> (context: Tensor, weights: Tensor?) {
        guard qkv.rank == 3, qkv.shape[2] % (3 * headCount) == 0 else {
            shapeFailure(ShapeError("multiHeadAttention: packed qkv must be [B, T, 3D] with D divisible by \(headCount) heads, got \(qkv.shape)"))
        }
        let (b, t, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / 3)
        let h = headCount, dh = d / h
        if let keyPaddingMask, keyPaddingMask.shape != [b, t] {
            shapeFailure(ShapeError("multiHeadAttention: key padding mask \(keyPaddingMask.shape) does not match [\(b), \(t)]"))
        }
        if let attentionBias, attentionBias.shape != [t, t] {
            shapeFailure(ShapeError("multiHeadAttention: attention bias \(attentionBias.shape) does not match [\(t), \(t)]"))
        }
        // A pair's A^T is T rows (keys) of `tp` floats, T rounded up to a multiple of 8: the columns past
        // the last query only pad each row to whole SIMD8 groups (the softmax leaves 0 in them, and no
        // product reads them).
        let tp = (t + 7) / 8 * 8
        // Per sample, what is added to each key's row of scores: 0 at a valid key, -inf at a padded one.
        let keyBias = TensorStorage(uninitializedCount: b * t)
        for sample in 0..<b {
            for key in 0..<t {
                let isPadded = keyPaddingMask.map { $0.storage.pointer[sample * t + key] != 0 } ?? false
                keyBias.pointer[sample * t + key] = isPadded ? -.infinity : 0
            }
        }
        // The bias in the layout of the scores below (S^T: row j is key j, queries along it, rows tp apart).
        let biasRows = attentionBias.map { bias in
            let rows = TensorStorage(zeros: t * tp)
            for key in 0..<t { for query in 0..<t { rows.pointer[key * tp + query] = bias.storage.pointer[query * t + key] } }
            return rows
        }
        let scale = 1 / Float(dh).squareRoot()
        let input = qkv.storage.pointer
        // The weights are kept for the backward pass (and for `returnWeights`). Without them (the EMA teacher,
        // evaluation), each thread reuses one pair's buffer, which stays in its cache: nothing written to memory.
        let keepsWeights = Tensor.recordsGraph(for: [qkv]) || returnWeights
        let weights = TensorStorage(uninitializedCount: keepsWeights ? b * h * t * tp : 0)
        let context = TensorStorage(uninitializedCount: b * t * d)
        let dropMask = dropout.flatMap { $0.probability > 0 ? TensorStorage(uninitializedCount: b * h * t * tp) : nil }
        let dropProbability = dropout?.probability ?? 0, dropSeed = dropout?.seed ?? 0

        // Pair p = (sample p / H, head p % H): where its Q, K, V, A and O live.
        func q(_ p: Int) -> Int { (p / h) * t * 3 * d + (p % h) * dh }  // K at q + D, V at q + 2D; rows 3D apart
        func o(_ p: Int) -> Int { (p / h) * t * d + (p % h) * dh }      // rows D apart
        func a(_ p: Int) -> Int { p * t * tp }                           // A^T: key rows tp apart

        // Who owns the cores: a product of at least BLAS.splitThreshold multiply-adds is split across the
        // threads by BLAS.sgemm itself. Below that, the (sample, head) pairs are split across threads here;
        // above it, the pairs run one after another and each product is split. Doing both at once (threaded
        // products inside threaded pairs) made a speech fine-tuning step 2.5 times slower than one thread.
        let pairChunk = t * t * dh < BLAS.splitThreshold ? 1 : b * h

        /// Writes (A * M)^T of pair p into `out` (t * tp floats), from its A^T at `attention`.
        func applyDropMask(_ p: Int, _ attention: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
            mapLanes(attention, dropMask!.pointer + a(p), out, t * tp) { $0 * $1 }
        }

        Parallel.forEachChunk(of: b * h, minimumPerChunk: pairChunk) { pairs in
            let dropped = dropMask.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: t * tp) }
            let words = dropMask.map { _ in UnsafeMutablePointer<UInt64>.allocate(capacity: t * tp / 4) }
            let scratch = keepsWeights ? nil : UnsafeMutablePointer<Float>.allocate(capacity: t * tp)
            defer { dropped?.deallocate(); words?.deallocate(); scratch?.deallocate() }
            for p in pairs {
                // S^T = s K Q^T: row j holds key j's scores against every query.
                let scores = scratch ?? weights.pointer + a(p)
                BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: dh, alpha: scale,
                           a: input + q(p) + d, lda: 3 * d, b: input + q(p), ldb: 3 * d, beta: 0, c: scores, ldc: tp)
                if let biasRows { mapLanes(scores, biasRows.pointer, scores, t * tp) { $0 + $1 } }
                Lane.softmaxColumns(scores, keys: t, queries: t, width: tp, keyBias: keyBias.pointer + (p / h) * t)
                var probabilities = UnsafePointer(scores)
                if let dropMask, let dropped, let words {
                    var rng = RandomGenerator(seed: dropSeed &+ UInt64(p) &* 0x9E37_79B9_7F4A_7C15)
                    for w in 0..<(t * tp / 4) { words[w] = rng.next().littleEndian }
                    drawDropMask(from: words, into: dropMask.pointer + a(p), count: t, width: tp,
                                 probability: dropProbability)
                    applyDropMask(p, scores, dropped)
                    probabilities = UnsafePointer(dropped)
                }
                // O = A V, with A^T as stored read transposed.
                BLAS.sgemm(transposeA: true, transposeB: false, m: t, n: dh, k: t,
                           a: probabilities, lda: tp, b: input + q(p) + 2 * d, ldb: 3 * d, beta: 0, c: context.pointer + o(p), ldc: d)
            }
        }
        let weightsTensor = returnWeights ? Tensor(shape: [b, h, t, t], storage: transposedBlocks(weights, count: b * h, size: t, stride: tp),
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
                    // dA^T = V dO^T (times the dropout mask), then dS = A * (dA - rowsum(dA * A)) in place,
                    // down the columns of the transposed layout.
                    BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: dh,
                               a: vp, lda: 3 * d, b: g + o(p), ldb: d, beta: 0, c: dScores, ldc: tp)
                    var probabilities = UnsafePointer(attention)  // what multiplied V in the forward pass
                    if let dropMask, let dropped {
                        mapLanes(dScores, dropMask.pointer + a(p), dScores, t * tp) { $0 * $1 }
                        applyDropMask(p, attention, dropped)
                        probabilities = UnsafePointer(dropped)
                    }
                    Lane.softmaxGradientColumns(dScores, attention: attention, keys: t, width: tp)
                    // dV = A^T dO, dQ = s dS K (dS^T read transposed), dK = s dS^T Q, each into its columns of d(qkv).
                    BLAS.sgemm(transposeA: false, transposeB: false, m: t, n: dh, k: t,
                               a: probabilities, lda: tp, b: g + o(p), ldb: d, beta: beta, c: dqkv + q(p) + 2 * d, ldc: 3 * d)
                    BLAS.sgemm(transposeA: true, transposeB: false, m: t, n: dh, k: t, alpha: scale,
                               a: dScores, lda: tp, b: kp, ldb: 3 * d, beta: beta, c: dqkv + q(p), ldc: 3 * d)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: t, n: dh, k: t, alpha: scale,
                               a: dScores, lda: tp, b: qp, ldb: 3 * d, beta: beta, c: dqkv + q(p) + d, ldc: 3 * d)
                }
            }
        }
        return (output, weightsTensor)
    }
}

/// `count` square blocks of `size` x `size` floats (rows `stride` apart, blocks `size * stride` apart),
/// each transposed into a contiguous [count, size, size] buffer: A from the stored A^T.
func transposedBlocks(_ source: TensorStorage, count: Int, size: Int, stride: Int) -> TensorStorage {
    let out = TensorStorage(uninitializedCount: count * size * size)
    for block in 0..<count {
        let (from, to) = (source.pointer + block * size * stride, out.pointer + block * size * size)
        for row in 0..<size { for column in 0..<size { to[row * size + column] = from[column * stride + row] } }
    }
    return out
}

/// The dropout mask of one (sample, head) pair in the transposed layout, from its random words.
///
/// Four 16-bit draws come from each 64 random bits (the generator was a tenth of a speech step): an element
/// is dropped (0) when its draw is below p 2^16, else kept (1 / (1 - p)); so p is honoured to 1 / 65,536.
/// The draws belong to the weights in row-major order: the weight of query i and key j takes draw
/// i * width + j, bits 16 (j % 4) ..< 16 (j % 4) + 16 of word (i * width + j) / 4 (width is a multiple of 8).
/// The mask is stored as A^T: row j, column i; columns from `count` on (padding) get 0.
///
/// - Parameters:
///   - words: count * width / 4 random words, in the generator's order.
///   - mask: count rows of `width` floats.
func drawDropMask(from words: UnsafePointer<UInt64>, into mask: UnsafeMutablePointer<Float>, count: Int, width: Int,
                  probability: Float) {
    let threshold = SIMD8<UInt32>(repeating: UInt32((Double(probability) * 65_536).rounded()))
    let (zero, kept) = (SIMD8<Float>(repeating: 0), SIMD8<Float>(repeating: 1 / (1 - probability)))
    let wordsPerQuery = width / 4
    // Eight queries at a time: their words for keys 4 k ..< 4 k + 4 side by side, one key's draws per shift.
    for firstQuery in stride(from: 0, to: width, by: 8) {
        for k in 0..<((count + 3) / 4) {
            var group = SIMD8<UInt64>()
            for lane in 0..<8 where firstQuery + lane < count { group[lane] = words[(firstQuery + lane) * wordsPerQuery + k] }
            for key in (4 * k)..<Swift.min(4 * k + 4, count) {
                let draws = SIMD8<UInt32>(truncatingIfNeeded: (group &>> UInt64(16 * (key % 4))) & 0xFFFF)
                var values = kept.replacing(with: zero, where: draws .< threshold)
                for lane in 0..<8 where firstQuery + lane >= count { values[lane] = 0 }
                UnsafeMutableRawPointer(mask + key * width + firstQuery).storeBytes(of: values, as: SIMD8<Float>.self)
            }
        }
    }
}
