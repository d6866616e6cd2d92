// Elementwise functions of one tensor, each with its derivative written next to it.
// `derivative: { x, y in ... }` receives the input x and the output y = f(x); dx += g * derivative.
import Foundation

extension Tensor {
    /// x^2; d/dx = 2x.
    public func squared() -> Tensor { unary("square", { $0 * $0 }, derivative: { x, _ in 2 * x }) }

    /// sqrt(x); d/dx = 1 / (2 sqrt(x)).
    public func squareRoot() -> Tensor { unary("sqrt", { $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }

    /// x^p for a constant p; d/dx = p x^(p-1).
    public func power(_ p: Float) -> Tensor {
        unary("pow", { powf($0, p) }, derivative: { x, _ in p * powf(x, p - 1) })
    }

    /// e^x; d/dx = e^x = y.
    public func exp() -> Tensor { unary("exp", { expf($0) }, derivative: { _, y in y }) }

    /// Natural logarithm; d/dx = 1/x.
    public func log() -> Tensor { unary("log", { logf($0) }, derivative: { x, _ in 1 / x }) }

    /// |x|; d/dx = sign(x), taken as 0 at 0 (PyTorch's convention).
    public func abs() -> Tensor {
        unary("abs", { Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) })
    }

    /// tanh(x); d/dx = 1 - tanh(x)^2.
    public func tanh() -> Tensor { unary("tanh", { tanhf($0) }, derivative: { _, y in 1 - y * y }) }

    /// 1 / (1 + e^-x), computed without overflow for large |x|; d/dx = y (1 - y).
    public func sigmoid() -> Tensor {
        unary("sigmoid", { x in
            x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
        }, derivative: { _, y in y * (1 - y) })
    }

    /// max(x, 0); d/dx = 1 where x > 0, else 0.
    public func relu() -> Tensor {
        unary("relu", { $0 > 0 ? $0 : 0 }, derivative: { x, _ in x > 0 ? 1 : 0 })
    }

    /// The two forms of GELU (Hendrycks and Gimpel, 2016). BERT, wav2vec 2.0 and data2vec use the
    /// exact (erf) form; GPT-2 used the tanh approximation. They differ by less than 1e-3.
    public enum GELUForm: Sendable { case erf, tanh }

    /// GELU(x) = x Phi(x), Phi the standard normal CDF.
    /// - `.erf`: x * 0.5 (1 + erf(x / sqrt 2));  d/dx = Phi(x) + x phi(x), phi the normal density.
    /// - `.tanh`: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3);
    ///   d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(u).
    public func gelu(_ form: GELUForm = .erf) -> Tensor {
        let c: Float = (2 / Float.pi).squareRoot()
        switch form {
        case .erf:
            return geluErf()
        case .tanh:
            return unary("gelu-tanh", { x in 0.5 * x * (1 + tanhf(c * (x + 0.044715 * x * x * x))) }, derivative: { x, _ in
                let t = tanhf(c * (x + 0.044715 * x * x * x))
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
            })
        }
    }

    /// Limits every element to [low, high]; d/dx = 1 inside the interval (bounds included), 0 outside.
    public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        require(low <= high, "clamped: min \(low) is above max \(high)")
        return unary("clamp", { Swift.min(Swift.max($0, low), high) },
                     derivative: { x, _ in x >= low && x <= high ? 1 : 0 })
    }
}

extension Tensor {
    /// GELU(x) = x Phi(x) with the exact normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2;
    /// d/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi).
    ///
    /// Written out rather than through `unary`: the FFN applies it to B x T x 4D elements per block. The
    /// passes are the lane kernels of LaneKernels.swift (fastErf/fastExp, within 5e-7 of libm), eight or
    /// sixteen floats at a time (LaneWidth.swift); a derivative passed as a per-element closure was 22% of a
    /// step's instructions (callgrind), and scalar loops left to the auto-vectorizer were 3x slower than
    /// the eight-lane kernels. Large tensors use both cores.
    ///
    /// When the graph is recorded, the forward pass keeps Phi(x) (one more float per element) and the
    /// backward pass reads it instead of computing erf again; Phi is the same float the backward pass used
    /// to compute, and v Phi the same float as (v / 2)(1 + erf) (halving is exact), so results are unchanged.
    ///
    /// - Parameter overwritingInput: without a graph, write GELU(x) over x's own storage (only for an x that
    ///   nothing else reads: `linearGELU`'s product).
    func geluErf(overwritingInput: Bool = false) -> Tensor {
        guard Tensor.recordsGraph(for: [self]) else {
            let out = overwritingInput ? storage : TensorStorage(uninitializedCount: count)
            let x = storage.pointer, y = out.pointer
            Parallel.forEachChunk(of: count, minimumPerChunk: 1 << 15) { range in
                Lane.gelu(x + range.lowerBound, y + range.lowerBound, count: range.count)
            }
            return .result("gelu-erf", shape: shape, storage: out, inputs: [self]) { _ in }
        }
        let out = TensorStorage(uninitializedCount: count), cdf = TensorStorage(uninitializedCount: count)
        let x = storage.pointer, y = out.pointer, phi = cdf.pointer
        Parallel.forEachChunk(of: count, minimumPerChunk: 1 << 15) { range in
            Lane.gelu(x + range.lowerBound, y + range.lowerBound, keepingCDF: phi + range.lowerBound, count: range.count)
        }
        return .result("gelu-erf", shape: shape, storage: out, inputs: [self]) { result in
            let input = result.parents[0]
            let x = input.storage.pointer, g = result.grad!.storage.pointer, phi = cdf.pointer
            // dL/dx = g * GELU'(x), written over g when x has no gradient yet (the usual case: x is the FFN's
            // first projection, read by nothing else), else added.
            let (dx, isTakenOver) = input.gradientBufferTakingOver(result.grad!)
            Parallel.forEachChunk(of: result.count, minimumPerChunk: 1 << 15) { range in
                let start = range.lowerBound
                Lane.geluGradient(x + start, g + start, cdf: phi + start, into: dx + start, count: range.count, accumulating: !isTakenOver)
            }
        }
    }
}
