// 1-D convolution on time-major sequences, without copying windows.
//
// wav2vec 2.0's feature encoder alternates convolutions (over time) with LayerNorms (over the channels of
// each frame). In the channel-first layout [B, C, T] of `conv1d`, every LayerNorm needs a transpose there and
// back; in the time-major layout [B, T, C] it needs none, and im2col becomes simple: the window of output
// frame t is the K consecutive input frames from t * stride, which in [T, Cin] storage are K * Cin
// consecutive floats, one copy per frame. (BLAS cannot read the overlapping windows in place: a leading
// dimension smaller than the row is not allowed.) With the windows of the whole batch as one matrix
// [B Tout, K Cin] and the weight as [Cout, K Cin] (PyTorch's [Cout, Cin, K] permuted to [Cout, K, Cin]),
// each direction is one product for the whole batch:
//     y = windows W^T                                  [B Tout, Cout]
//     dW = dy^T windows                                [Cout, K Cin]
//     d windows = dy W, added back frame by frame into dx (windows overlap when K > stride)
extension Tensor {
    /// Convolution over time of x [B, T, Cin] (time-major) with `weight` [Cout, Cin, K] (PyTorch's layout), no
    /// padding, one group: [B, Tout, Cout] with Tout = (T - K) / stride + 1. The same numbers as
    /// `conv1d` on the transposed input, transposed back.
    public func frameConvolution(weight: Tensor, stride: Int) -> Tensor {
        guard rank == 3, weight.rank == 3, weight.shape[1] == shape[2] else {
            shapeFailure(ShapeError("frameConvolution: input must be [B, T, Cin] and weight [Cout, Cin, K] with the same Cin; got \(shape) and \(weight.shape)"))
        }
        let (batch, length, cin) = (shape[0], shape[1], shape[2])
        let (cout, kernel) = (weight.shape[0], weight.shape[2])
        require(stride >= 1, "frameConvolution: stride must be >= 1, got \(stride)")
        guard length >= kernel else {
            shapeFailure(ShapeError("frameConvolution: \(length) frames are fewer than the kernel's \(kernel)"))
        }
        let outLength = (length - kernel) / stride + 1, window = kernel * cin
        // [Cout, Cin, K] -> [Cout, K, Cin]: each output channel's weights in the order of a window.
        let w = weight.permuted([0, 2, 1])
        let out = TensorStorage(uninitializedCount: batch * outLength * cout)
        let rows = batch * outLength
        let windows = UnsafeMutablePointer<Float>.allocate(capacity: rows * window)
        defer { windows.deallocate() }
        gatherWindows(storage.pointer, into: windows, batch: batch, length: length, channels: cin, outLength: outLength, stride: stride, window: window)
        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: cout, k: window,
                   a: windows, lda: window, b: w.storage.pointer, ldb: window, beta: 0, c: out.pointer, ldc: cout)
        return .result("frameConvolution", shape: [batch, outLength, cout], storage: out, inputs: [self, w]) { result in
            let (input, w) = (result.parents[0], result.parents[1])
            let g = result.grad!.storage.pointer
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * window)
            defer { scratch.deallocate() }
            if w.requiresGradient {  // dW [Cout, K Cin] = dy^T windows
                gatherWindows(input.storage.pointer, into: scratch, batch: batch, length: length, channels: cin, outLength: outLength,
                              stride: stride, window: window)
                let (dw, isFresh) = w.gradientBufferForOverwrite()
                BLAS.sgemm(transposeA: true, transposeB: false, m: cout, n: window, k: rows,
                           a: g, lda: cout, b: scratch, ldb: window, beta: isFresh ? 0 : 1, c: dw, ldc: window)
            }
            if input.requiresGradient {  // d windows = dy W, each window added back into its frames
                BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: window, k: cout,
                           a: g, lda: cout, b: w.storage.pointer, ldb: window, beta: 0, c: scratch, ldc: window)
                let dx = input.gradientPointer()
                for b in 0..<batch {
                    for t in 0..<outLength {
                        let row = scratch + (b * outLength + t) * window, start = dx + (b * length + t * stride) * cin
                        mapLanes(row, start, start, window) { $0 + $1 }
                    }
                }
            }
        }
    }
}

/// Copies every output frame's window (K consecutive input frames, K * Cin floats) of x [B, T, Cin] into the
/// rows of `windows` [B Tout, K Cin].
func gatherWindows(_ x: UnsafePointer<Float>, into windows: UnsafeMutablePointer<Float>, batch: Int, length: Int, channels: Int,
                   outLength: Int, stride: Int, window: Int) {
    for b in 0..<batch {
        for t in 0..<outLength {
            (windows + (b * outLength + t) * window).update(from: x + (b * length + t * stride) * channels, count: window)
        }
    }
}
