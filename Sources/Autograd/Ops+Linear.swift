// The affine map of a Linear layer as one op: y = x W^T + b.
//
// Composed from `matmul` and `+`, the product x W^T would be a tensor of its own, kept alive by the graph
// until backward only because it is the addition's input (the addition's backward never reads it). Fused,
// the bias is added in place to the product's output: the same arithmetic in the same order (so the same
// numbers), one activation instead of two. In the vision-small benchmark that saves 29 MB per block.
//
// Backward, with g = dL/dy [rows, out]:   dx = g W    dW = g^T x    db = sum over rows of g
extension Tensor {
    /// `x W^T + b` for x [..., in], weight [out, in] (PyTorch's layout) and an optional bias [out].
    /// Returns [..., out].
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        guard weight.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[1] else {
            shapeFailure(ShapeError("linear: input \(x.shape) does not end in the weight's input size (weight \(weight.shape) is [out, in])"))
        }
        let (outputs, inputs) = (weight.shape[0], weight.shape[1])
        if let bias, bias.shape != [outputs] {
            shapeFailure(ShapeError("linear: bias \(bias.shape) does not match the weight's \(outputs) outputs"))
        }
        let rows = x.count / Swift.max(inputs, 1)
        let out = TensorStorage(uninitializedCount: rows * outputs)
        // With a bias, every row of the output starts as b and sgemm adds the product to it (beta 1): no pass
        // of its own to add b afterwards, and none for OpenBLAS to clear the output first (beta 0 zeroes C,
        // 5% of a text-tiny step). b + xW^T is the same float as xW^T + b while k fits in one of OpenBLAS's
        // blocks of the inner dimension (every layer of the chapters, k <= 256); beyond it (k = 512 here)
        // OpenBLAS adds the blocks' partial sums to C one by one, so b joins the sum earlier: another rounding.
        if let b = bias?.storage.pointer {
            Parallel.forEachChunk(of: rows, minimumPerChunk: Swift.max(1, elementsPerChunk / Swift.max(outputs, 1))) { chunk in
                for r in chunk { mapLanes(b, out.pointer + r * outputs, outputs) { $0 } }  // (a memmove call per row cost 5%)
            }
        }
        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outputs, k: inputs,
                   a: x.storage.pointer, lda: inputs, b: weight.storage.pointer, ldb: inputs, beta: bias == nil ? 0 : 1,
                   c: out.pointer, ldc: outputs)
        let hasBias = bias != nil
        return .result("linear", shape: Array(x.shape.dropLast()) + [outputs], storage: out,
                       inputs: [x, weight] + (bias.map { [$0] } ?? [])) { result in
            let (x, weight) = (result.parents[0], result.parents[1])
            let g = result.grad!.storage.pointer
            if x.requiresGradient {  // dx [rows, in] = g [rows, out] W [out, in]
                let (dx, isFresh) = x.gradientBufferForOverwrite()
                BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: inputs, k: outputs,
                           a: g, lda: outputs, b: weight.storage.pointer, ldb: inputs, beta: isFresh ? 0 : 1, c: dx, ldc: inputs)
            }
            if weight.requiresGradient {  // dW [out, in] = g^T x
                let (dw, isFresh) = weight.gradientBufferForOverwrite()
                BLAS.sgemm(transposeA: true, transposeB: false, m: outputs, n: inputs, k: rows,
                           a: g, lda: outputs, b: x.storage.pointer, ldb: inputs, beta: isFresh ? 0 : 1, c: dw, ldc: inputs)
            }
            if hasBias, result.parents[2].requiresGradient {
                // db = column sums of g; threads take columns (not rows), so each sum runs in the same order,
                // whatever the thread count.
                let db = result.parents[2].gradientPointer()
                Parallel.forEachChunk(of: outputs, minimumPerChunk: Swift.max(8, elementsPerChunk / Swift.max(rows, 1))) { columns in
                    addColumnSums(of: g, rows: rows, stride: outputs, columns: columns, into: db)
                }
            }
        }
    }
}

extension Tensor {
    /// GELU(x W^T + b), the erf form: the first half of a Transformer's feed-forward network, with `linear`'s
    /// shapes. The same floats as `linear(x, weight:, bias:).gelu()`, and with a graph the same two ops.
    /// Without one (the EMA teacher, evaluation) the GELU overwrites the product, a temporary nothing else
    /// reads: one buffer fewer, and no pass writing to memory that is not in the cache yet.
    public static func linearGELU(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        linear(x, weight: weight, bias: bias).geluErf(overwritingInput: true)
    }
}

/// db[c] += g[0, c] + g[1, c] + ... + g[rows - 1, c] for every c in `columns` (row r of g starts at
/// g + r * stride), each column added up from row 0 down: the order of adding g to db row by row, so the
/// same floats. Thirty-two columns at a time stay in four SIMD registers for the whole walk down the rows:
/// one load per eight floats of g, where adding row by row also loaded and stored db for every row.
@inline(__always)
func addColumnSums(of g: UnsafePointer<Float>, rows: Int, stride: Int, columns: Range<Int>, into db: UnsafeMutablePointer<Float>) {
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }
    @inline(__always) func store(_ v: Float8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self) }
    var c = columns.lowerBound
    while c + 32 <= columns.upperBound {
        var (s0, s1, s2, s3) = (load(db + c), load(db + c + 8), load(db + c + 16), load(db + c + 24))
        for r in 0..<rows {
            let row = g + r * stride + c
            s0 += load(row); s1 += load(row + 8); s2 += load(row + 16); s3 += load(row + 24)
        }
        store(s0, db + c); store(s1, db + c + 8); store(s2, db + c + 16); store(s3, db + c + 24)
        c += 32
    }
    while c + 8 <= columns.upperBound {
        var sum = load(db + c)
        for r in 0..<rows { sum += load(g + r * stride + c) }
        store(sum, db + c)
        c += 8
    }
    while c < columns.upperBound {
        var sum = db[c]
        for r in 0..<rows { sum += g[r * stride + c] }
        db[c] = sum
        c += 1
    }
}
