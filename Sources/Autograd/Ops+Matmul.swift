// Matrix products, 2-D and batched, all through `cblas_sgemm` (BLAS.swift).
//
// For C = op(A) op(B) with op(A) [M, K], op(B) [K, N] and upstream gradient dC [M, N]:
//     dop(A) = dC op(B)^T   [M, K]        dop(B) = op(A)^T dC   [K, N]
// When an operand is stored transposed, its gradient is the transpose of that, which sgemm computes
// directly by swapping the order and the transpose flags; no transposed copy is ever made.
// Gradient products use beta = 1 (C <- A B + C): they add into an existing gradient buffer, so
// accumulation is free; a gradient buffer created by this op is written with beta = 0 instead.

extension Tensor {
    /// `op(a) · op(b)`, where op transposes the last two axes when asked.
    ///
    /// Shapes: a [..., M, K] (or [..., K, M] with `transposeA`), b [K, N] (or [N, K] with `transposeB`),
    /// or b [..., K, N] with the same leading (batch) axes as a. A 2-D operand is shared by every batch
    /// entry of the other. Result: [..., M, N].
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else {
            shapeFailure(ShapeError("matmul: needs operands of rank >= 2, got shapes \(a.shape) and \(b.shape)"))
        }
        let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (aCols, aRows) : (aRows, aCols)
        let (kB, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        guard k == kB, aBatch == bBatch || aBatch.isEmpty || bBatch.isEmpty else {
            shapeFailure(ShapeError("matmul: shapes \(a.shape)\(transposeA ? "^T" : "") and \(b.shape)\(transposeB ? "^T" : "") do not match (inner sizes \(k) and \(kB); batch axes must be equal or one operand 2-D)"))
        }
        let batchShape = aBatch.isEmpty ? bBatch : aBatch
        var plan = Plan(batch: batchShape.reduce(1, *), m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                        strideA: aBatch.isEmpty ? 0 : m * k, strideB: bBatch.isEmpty ? 0 : k * n, lda: aCols, ldb: bCols)
        // A batch of [M, K] rows times one shared matrix is a single taller product: fold the batch into M.
        if bBatch.isEmpty && !aBatch.isEmpty && !transposeA {
            plan = Plan(batch: 1, m: plan.batch * m, n: n, k: k, transposeA: false, transposeB: transposeB,
                        strideA: 0, strideB: 0, lda: aCols, ldb: bCols)
        }
        let out = TensorStorage(uninitializedCount: batchShape.reduce(1, *) * m * n)
        plan.forward(a.storage.pointer, b.storage.pointer, out.pointer)
        return .result("matmul", shape: batchShape + [m, n], storage: out, inputs: [a, b]) { result in
            let a = result.parents[0], b = result.parents[1], g = result.grad!.storage.pointer
            // A fresh gradient buffer is written with beta = 0 (no zero-filling); an existing one is added to.
            // A shared operand (stride 0) receives one product per batch entry, so only the first may overwrite.
            if a.requiresGradient {
                let (da, isFresh) = a.gradientBufferForOverwrite()
                plan.gradientA(g, b.storage.pointer, into: da, overwrite: isFresh)
            }
            if b.requiresGradient {
                let (db, isFresh) = b.gradientBufferForOverwrite()
                plan.gradientB(g, a.storage.pointer, into: db, overwrite: isFresh)
            }
        }
    }

    /// `self · other`. See `Tensor.matmul(_:_:transposeA:transposeB:)`.
    public func matmul(_ other: Tensor, transposeOther: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeB: transposeOther)
    }

    /// The sizes, strides and flags of one (batched) product, and its three sgemm calls.
    /// A stride of 0 means that operand is shared by every batch entry (its gradient sums over them).
    struct Plan {
        let batch, m, n, k: Int
        let transposeA, transposeB: Bool
        let strideA, strideB: Int
        let lda, ldb: Int  // row lengths of A and B as stored

        func forward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
            for i in 0..<batch {
                BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           a: a + i * strideA, lda: lda, b: b + i * strideB, ldb: ldb,
                           beta: 0, c: c + i * m * n, ldc: n)
            }
        }

        /// dA += dC op(B)^T, or, for A stored transposed ([K, M]), dA += op(B) dC^T.
        func gradientA(_ g: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into da: UnsafeMutablePointer<Float>, overwrite: Bool) {
            for i in 0..<batch {
                let beta: Float = overwrite && (i == 0 || strideA != 0) ? 0 : 1
                let g = g + i * m * n, b = b + i * strideB, da = da + i * strideA
                if transposeA {
                    BLAS.sgemm(transposeA: transposeB, transposeB: true, m: k, n: m, k: n,
                               a: b, lda: ldb, b: g, ldb: n, beta: beta, c: da, ldc: m)
                } else {
                    BLAS.sgemm(transposeA: false, transposeB: !transposeB, m: m, n: k, k: n,
                               a: g, lda: n, b: b, ldb: ldb, beta: beta, c: da, ldc: k)
                }
            }
        }

        /// dB += op(A)^T dC, or, for B stored transposed ([N, K]), dB += dC^T op(A).
        func gradientB(_ g: UnsafePointer<Float>, _ a: UnsafePointer<Float>, into db: UnsafeMutablePointer<Float>, overwrite: Bool) {
            for i in 0..<batch {
                let beta: Float = overwrite && (i == 0 || strideB != 0) ? 0 : 1
                let g = g + i * m * n, a = a + i * strideA, db = db + i * strideB
                if transposeB {
                    BLAS.sgemm(transposeA: true, transposeB: transposeA, m: n, n: k, k: m,
                               a: g, lda: n, b: a, ldb: lda, beta: beta, c: db, ldc: k)
                } else {
                    BLAS.sgemm(transposeA: !transposeA, transposeB: false, m: k, n: n, k: m,
                               a: a, lda: lda, b: g, ldb: n, beta: beta, c: db, ldc: n)
                }
            }
        }
    }
}
