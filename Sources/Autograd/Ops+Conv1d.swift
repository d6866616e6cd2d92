// 1-D convolution (cross-correlation, as in every deep-learning library) by im2col + sgemm.
//
// Input x [B, Cin, L], weight [Cout, Cin/groups, K], optional bias [Cout]; output [B, Cout, Lout] with
//     Lout = (L + 2 * padding - K) / stride + 1
//     y[b, o, t] = bias[o] + sum over c in o's group, k < K of  w[o, c, k] * xpad[b, c, t * stride + k].
// im2col copies, for each group, the receptive fields into a matrix cols [Cin_g * K, Lout], so the
// convolution becomes one product W_g [Cout_g, Cin_g * K] · cols. Backward: dW_g += dY_g · cols^T and
// dcols = W_g^T · dY_g, which col2im adds back into dx (overlapping windows add up).

extension Tensor {
    /// Cross-correlation over the last axis: x [B, Cin, L], weight [Cout, Cin/groups, K], bias [Cout] -> [B, Cout, Lout]
    /// with Lout = (L + 2 padding - K) / stride + 1 (PyTorch's `conv1d`).
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, groups: Int = 1) -> Tensor {
        guard rank == 3, weight.rank == 3 else {
            shapeFailure(ShapeError("conv1d: input must be [B, Cin, L] and weight [Cout, Cin/groups, K]; got \(shape) and \(weight.shape)"))
        }
        let (batch, cin, length) = (shape[0], shape[1], shape[2])
        let (cout, cinGroup, kernel) = (weight.shape[0], weight.shape[1], weight.shape[2])
        guard groups >= 1, cin % groups == 0, cout % groups == 0, cinGroup == cin / groups else {
            shapeFailure(ShapeError("conv1d: input \(shape) and weight \(weight.shape) do not fit \(groups) groups (need Cin and Cout divisible by groups and weight.shape[1] = Cin / groups)"))
        }
        require(stride >= 1 && padding >= 0, "conv1d: stride must be >= 1 and padding >= 0 (got \(stride), \(padding))")
        if let bias, bias.shape != [cout] {
            shapeFailure(ShapeError("conv1d: bias of shape \(bias.shape) does not match \(cout) output channels"))
        }
        let padded = length + 2 * padding
        guard padded >= kernel else {
            shapeFailure(ShapeError("conv1d: input length \(length) with padding \(padding) is shorter than kernel \(kernel)"))
        }
        let outLength = (padded - kernel) / stride + 1
        let coutGroup = cout / groups, rowsCols = cinGroup * kernel
        let geometry = ConvGeometry(length: length, outLength: outLength, kernel: kernel, stride: stride, padding: padding)

        let out = TensorStorage(uninitializedCount: batch * cout * outLength)
        // Each (clip, group) pair is one product of its own, written to its own rows of the output: the pairs are
        // split across the cores (each chunk with its own im2col buffer), and the floats do not depend on the split.
        let (x, w, y) = (storage.pointer, weight.storage.pointer, out.pointer)
        let perPair = Swift.max(1, BLAS.splitThreshold / Swift.max(1, coutGroup * rowsCols * outLength))
        Parallel.forEachChunk(of: batch * groups, minimumPerChunk: perPair) { pairs in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: rowsCols * outLength)
            defer { cols.deallocate() }
            for pair in pairs {
                let (b, g) = (pair / groups, pair % groups)
                geometry.im2col(x + (b * cin + g * cinGroup) * length, channels: cinGroup, into: cols)
                BLAS.sgemm(transposeA: false, transposeB: false, m: coutGroup, n: outLength, k: rowsCols,
                           a: w + g * coutGroup * rowsCols, lda: rowsCols,
                           b: cols, ldb: outLength,
                           beta: 0, c: y + (b * cout + g * coutGroup) * outLength, ldc: outLength)
            }
        }
        if let bias {
            for b in 0..<batch {
                for o in 0..<cout {
                    let row = y + (b * cout + o) * outLength, value = bias.storage.pointer[o]
                    for t in 0..<outLength { row[t] += value }
                }
            }
        }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return .result("conv1d", shape: [batch, cout, outLength], storage: out, inputs: inputs) { result in
            let x = result.parents[0], w = result.parents[1], g = result.grad!.storage.pointer
            let (xs, ws) = (x.storage.pointer, w.storage.pointer)
            let dw: UnsafeMutablePointer<Float>? = w.requiresGradient ? w.gradientPointer() : nil
            let dx: UnsafeMutablePointer<Float>? = x.requiresGradient ? x.gradientPointer() : nil
            // Groups own disjoint rows of dW and channels of dx, so they are split across the cores; within a group
            // the clips add into dW in order, as on one thread (with one group, everything stays on this thread).
            let perGroup = Swift.max(1, BLAS.splitThreshold / Swift.max(1, batch * coutGroup * rowsCols * outLength))
            Parallel.forEachChunk(of: groups, minimumPerChunk: perGroup) { range in
                let cols = UnsafeMutablePointer<Float>.allocate(capacity: rowsCols * outLength)
                defer { cols.deallocate() }
                for group in range {
                    for b in 0..<batch {
                        let gOut = g + (b * cout + group * coutGroup) * outLength
                        let wg = ws + group * coutGroup * rowsCols
                        if let dw {  // dW_g += dY_g · cols^T
                            geometry.im2col(xs + (b * cin + group * cinGroup) * length, channels: cinGroup, into: cols)
                            BLAS.sgemm(transposeA: false, transposeB: true, m: coutGroup, n: rowsCols, k: outLength,
                                       a: gOut, lda: outLength, b: cols, ldb: outLength,
                                       beta: 1, c: dw + group * coutGroup * rowsCols, ldc: rowsCols)
                        }
                        if let dx {  // dcols = W_g^T · dY_g, then col2im
                            BLAS.sgemm(transposeA: true, transposeB: false, m: rowsCols, n: outLength, k: coutGroup,
                                       a: wg, lda: rowsCols, b: gOut, ldb: outLength, beta: 0, c: cols, ldc: outLength)
                            geometry.col2imAdd(cols, channels: cinGroup, into: dx + (b * cin + group * cinGroup) * length)
                        }
                    }
                }
            }
            if result.parents.count == 3, result.parents[2].requiresGradient {
                let db = result.parents[2].gradientPointer()
                for b in 0..<batch {
                    for o in 0..<cout {
                        let row = g + (b * cout + o) * outLength
                        var sum: Float = 0
                        for t in 0..<outLength { sum += row[t] }
                        db[o] += sum
                    }
                }
            }
        }
    }
}

/// Index arithmetic shared by im2col and its adjoint col2im.
struct ConvGeometry {
    let length, outLength, kernel, stride, padding: Int

    /// cols[(c * K + k) * Lout + t] = x[c, t * stride + k - padding], or 0 in the padding.
    func im2col(_ x: UnsafePointer<Float>, channels: Int, into cols: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for k in 0..<kernel {
                let row = cols + (c * kernel + k) * outLength, xc = x + c * length
                for t in 0..<outLength {
                    let position = t * stride + k - padding
                    row[t] = position >= 0 && position < length ? xc[position] : 0
                }
            }
        }
    }

    /// The adjoint of im2col: dx[c, t * stride + k - padding] += cols[(c * K + k) * Lout + t].
    func col2imAdd(_ cols: UnsafePointer<Float>, channels: Int, into dx: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for k in 0..<kernel {
                let row = cols + (c * kernel + k) * outLength, dxc = dx + c * length
                for t in 0..<outLength {
                    let position = t * stride + k - padding
                    if position >= 0 && position < length { dxc[position] += row[t] }
                }
            }
        }
    }
}
