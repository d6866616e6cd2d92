// Layer normalization over the last axis, as one op (Ba et al., 2016):
//     y = (x - mean) / sqrt(var + eps) * weight + bias,  mean and biased var over the last axis (D).
// Written as one op rather than composed from mean/variance ops: one pass forward and backward and
// two saved vectors per row, instead of eight intermediate tensors.
//
// Backward, with xhat = (x - mean) * rstd and h = g * weight (per row, sums over the D elements):
//     dx = rstd * (h - mean(h) - xhat * mean(h * xhat))
//     dweight = sum over rows of g * xhat,   dbias = sum over rows of g
import Foundation

extension Tensor {
    /// Normalizes each vector along the last axis to zero mean and unit (biased) variance, then applies
    /// the optional elementwise affine `weight` and `bias` (shape [D]). PyTorch's `F.layer_norm`.
    public func layerNorm(weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) -> Tensor {
        guard rank >= 1 else { shapeFailure(ShapeError("layerNorm: needs rank >= 1, got a scalar")) }
        let d = shape[rank - 1], rows = count / Swift.max(d, 1)
        for p in [weight, bias].compactMap({ $0 }) where p.shape != [d] {
            shapeFailure(ShapeError("layerNorm: weight/bias of shape \(p.shape) do not match the last axis of \(shape) (expected [\(d)])"))
        }
        let out = TensorStorage(uninitializedCount: count)
        let means = TensorStorage(uninitializedCount: rows), rstds = TensorStorage(uninitializedCount: rows)
        let x = storage.pointer, y = out.pointer
        let w = weight?.storage.pointer, b = bias?.storage.pointer
        // Rows are independent: split across threads. Three passes over a row: its sum, its sum of squared
        // deviations (FastMath.swift's eight-lane order, as `vectorDot` of x - mean with itself), and the
        // output, ((x - mean) * rstd) * w + b element by element (one rounding per operation, in that order).
        Parallel.forEachChunk(of: rows, minimumPerChunk: 256) { chunk in
            for r in chunk {
                let xr = x + r * d, yr = y + r * d
                let mean = vectorSum(xr, d) / Float(d)
                let rstd = 1 / (sumOfSquaredDeviations(xr, from: mean, d) / Float(d) + epsilon).squareRoot()
                means.pointer[r] = mean
                rstds.pointer[r] = rstd
                switch (w, b) {
                case let (w?, b?): for i in 0..<d { yr[i] = (xr[i] - mean) * rstd * w[i] + b[i] }
                case let (w?, nil): for i in 0..<d { yr[i] = (xr[i] - mean) * rstd * w[i] }
                case let (nil, b?): for i in 0..<d { yr[i] = (xr[i] - mean) * rstd + b[i] }
                case (nil, nil): for i in 0..<d { yr[i] = (xr[i] - mean) * rstd }
                }
            }
        }
        let inputs = [self] + [weight, bias].compactMap { $0 }
        let hasWeight = weight != nil, hasBias = bias != nil
        return .result("layerNorm", shape: shape, storage: out, inputs: inputs) { result in
            let input = result.parents[0], g = result.grad!.storage.pointer, x = input.storage.pointer
            let weight = hasWeight ? result.parents[1] : nil
            let bias = hasBias ? result.parents[hasWeight ? 2 : 1] : nil
            let w = weight?.storage.pointer
            let (dx, dxIsFresh) = input.requiresGradient ? input.gradientBufferForOverwrite() : (nil, false)
            let needsWeight = weight?.requiresGradient == true, needsBias = bias?.requiresGradient == true
            // Each block of 256 rows sums its own dweight and dbias, and the blocks' sums are added in order
            // afterwards; the threads take whole blocks, so the sums do not depend on the thread count.
            let chunkCount = (rows + 255) / 256
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunkCount * 2 * d)
            partial.initialize(repeating: 0, count: chunkCount * 2 * d)
            defer { partial.deallocate() }
            Parallel.forEachChunk(of: chunkCount, minimumPerChunk: 2) { chunks in
                let xhat = UnsafeMutablePointer<Float>.allocate(capacity: 2 * d), h = xhat + d
                defer { xhat.deallocate() }
                for chunk in chunks {
                    let dw = partial + chunk * 2 * d, db = dw + d
                    for r in (chunk * 256)..<Swift.min(rows, (chunk + 1) * 256) {
                        let xr = x + r * d, gr = g + r * d
                        let mean = means.pointer[r], rstd = rstds.pointer[r]
                        // xhat, h and the parameters' sums in one pass (the flags are the same for every
                        // row, so the compiler makes one loop per case).
                        for i in 0..<d {
                            let xh = (xr[i] - mean) * rstd
                            xhat[i] = xh
                            h[i] = w.map { gr[i] * $0[i] } ?? gr[i]
                            if needsWeight { dw[i] += gr[i] * xh }
                            if needsBias { db[i] += gr[i] }
                        }
                        guard let dx else { continue }
                        let (sumH, sumHX) = sumAndDot(h, xhat, d)
                        let meanH = sumH / Float(d), meanHX = sumHX / Float(d)
                        let dxr = dx + r * d
                        if dxIsFresh {
                            for i in 0..<d { dxr[i] = rstd * (h[i] - meanH - xhat[i] * meanHX) }
                        } else {
                            for i in 0..<d { dxr[i] += rstd * (h[i] - meanH - xhat[i] * meanHX) }
                        }
                    }
                }
            }
            for (needed, tensor, offset) in [(needsWeight, weight, 0), (needsBias, bias, d)] where needed {
                let total = tensor!.gradientPointer()
                for chunk in 0..<chunkCount { for i in 0..<d { total[i] += partial[chunk * 2 * d + offset + i] } }
            }
        }
    }
}
