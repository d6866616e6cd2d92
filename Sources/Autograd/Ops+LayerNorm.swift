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
        for r in 0..<rows {
            let xr = x + r * d, yr = y + r * d
            var mean: Float = 0
            for i in 0..<d { mean += xr[i] }
            mean /= Float(d)
            var variance: Float = 0
            for i in 0..<d { variance += (xr[i] - mean) * (xr[i] - mean) }
            let rstd = 1 / (variance / Float(d) + epsilon).squareRoot()
            means.pointer[r] = mean
            rstds.pointer[r] = rstd
            for i in 0..<d { yr[i] = (xr[i] - mean) * rstd * (w?[i] ?? 1) + (b?[i] ?? 0) }
        }
        let inputs = [self] + [weight, bias].compactMap { $0 }
        let hasWeight = weight != nil, hasBias = bias != nil
        return .result("layerNorm", shape: shape, storage: out, inputs: inputs) { result in
            let input = result.parents[0], g = result.grad!.storage.pointer, x = input.storage.pointer
            let weight = hasWeight ? result.parents[1] : nil
            let bias = hasBias ? result.parents[hasWeight ? 2 : 1] : nil
            let w = weight?.storage.pointer
            let (dx, dxIsFresh) = input.requiresGradient ? input.gradientBufferForOverwrite() : (nil, false)
            let dw = weight?.requiresGradient == true ? weight!.gradientPointer() : nil
            let db = bias?.requiresGradient == true ? bias!.gradientPointer() : nil
            for r in 0..<rows {
                let xr = x + r * d, gr = g + r * d
                let mean = means.pointer[r], rstd = rstds.pointer[r]
                var meanH: Float = 0, meanHX: Float = 0
                for i in 0..<d {
                    let xhat = (xr[i] - mean) * rstd, h = gr[i] * (w?[i] ?? 1)
                    meanH += h
                    meanHX += h * xhat
                    dw?[i] += gr[i] * xhat
                    db?[i] += gr[i]
                }
                meanH /= Float(d)
                meanHX /= Float(d)
                if let dx {
                    let dxr = dx + r * d
                    for i in 0..<d {
                        let xhat = (xr[i] - mean) * rstd, h = gr[i] * (w?[i] ?? 1)
                        let value = rstd * (h - meanH - xhat * meanHX)
                        dxr[i] = dxIsFresh ? value : dxr[i] + value
                    }
                }
            }
        }
    }
}
