// Smooth L1 (Girshick, 2015) per element, as one op: the data2vec loss for images and text (paper
// section 3.4: beta 2 for vision, 4 for text; fairseq's `F.smooth_l1_loss(..., reduction="none", beta=...)`).
//
// With d = prediction - target:
//     loss = 0.5 d^2 / beta    if |d| < beta        d loss / d prediction = d / beta     (written (g * 0.5/beta) * 2d)
//          = |d| - 0.5 beta    otherwise            d loss / d prediction = sign(d)
// and d loss / d target is the negative of d loss / d prediction.
//
// Written out as six ops (subtract, abs, square, scale, shift, where) this took six passes forward and
// eight backward over the masked rows and a mask array built on the caller: about a millisecond of a
// vision-tiny training step (trial log in the git history: `git log -- results/trials/step-small-ops.txt`). Here it is one pass each way. Every element is rounded exactly as in that
// composition: 0.5 / beta and 0.5 * beta are rounded once, (d * d) * (0.5 / beta), and the gradient
// (g * (0.5 / beta)) * (2 d), so a training run's numbers do not move.
extension Tensor {
    /// Smooth L1 of `prediction - target`, element by element (see the top of this file); `beta > 0`.
    /// Shapes must be equal; the result has that shape. PyTorch: `smooth_l1_loss(reduction="none")`.
    public static func smoothL1(_ prediction: Tensor, _ target: Tensor, beta: Float) -> Tensor {
        require(beta > 0, "smoothL1: beta must be > 0 here, got \(beta) (beta = 0 is the squared error)")
        guard prediction.shape == target.shape else {
            shapeFailure(ShapeError("smoothL1: prediction \(prediction.shape) and target \(target.shape) must have the same shape"))
        }
        let (scale, shift) = (0.5 / beta, 0.5 * beta)
        let out = TensorStorage(uninitializedCount: prediction.count)
        let p = prediction.storage.pointer, t = target.storage.pointer, o = out.pointer
        // Both branches are computed and one is selected, without a jump: which branch an element takes
        // is a coin flip for a predictor, and selects let the loop run several lanes at once.
        Parallel.forEachChunk(of: prediction.count, minimumPerChunk: 1 << 15) { range in
            for i in range {
                let d = p[i] - t[i], size = Swift.abs(d)
                let quadratic = (d * d) * scale, linear = size - shift
                o[i] = size < beta ? quadratic : linear
            }
        }
        return .result("smoothL1", shape: prediction.shape, storage: out, inputs: [prediction, target]) { result in
            let prediction = result.parents[0], target = result.parents[1]
            let p = prediction.storage.pointer, t = target.storage.pointer, g = result.grad!.storage.pointer
            /// d loss / d prediction at element i, given g = d L / d loss.
            @inline(__always) func gradient(_ i: Int) -> Float {
                let d = p[i] - t[i]
                let quadratic = (g[i] * scale) * (2 * d), linear = d > 0 ? g[i] : -g[i]
                return Swift.abs(d) < beta ? quadratic : linear
            }
            // Into each input that needs a gradient: written if its buffer is fresh, else added.
            for (input, sign) in [(prediction, Float(1)), (target, -1)] where input.requiresGradient {
                let (dx, isFresh) = input.gradientBufferForOverwrite()
                Parallel.forEachChunk(of: result.count, minimumPerChunk: 1 << 15) { range in
                    if isFresh {
                        for i in range { dx[i] = sign * gradient(i) }
                    } else {
                        for i in range { dx[i] += sign * gradient(i) }
                    }
                }
            }
        }
    }
}
