// Reductions along axes: sum, mean, max, variance.
// `keepingDimensions: true` leaves each reduced axis with size 1 (so the result broadcasts against the
// input, as in `x - x.mean(alongAxes: [-1], keepingDimensions: true)`); false removes it.

extension Tensor {
    /// The input shape with each reduced axis set to 1, and the axes normalized and sorted.
    func reducedShape(_ axes: [Int], op: String) -> (kept: [Int], axes: [Int]) {
        let normalized = Set(axes.map { axis($0, op: op) }).sorted()
        var kept = shape
        for axis in normalized { kept[axis] = 1 }
        return (kept, normalized)
    }

    /// Sum over `axes` (all axes when nil). d/dx: each input element gets the gradient of its sum.
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let (kept, reduced) = reducedShape(axes ?? Array(0..<rank), op: "sum")
        let out = TensorStorage(zeros: kept.reduce(1, *))
        let x = storage.pointer
        accumulateBroadcast(into: out.pointer, destShape: kept, shape: shape, g: x,
                            x: x, xShape: shape, y: x, yShape: shape, IncomingGradient.self)
        let resultShape = keepingDimensions ? kept : shape.indices.filter { !reduced.contains($0) }.map { shape[$0] }
        return .result("sum", shape: resultShape, storage: out, inputs: [self]) { result in
            let input = result.parents[0]
            input.addBroadcast(result.grad!.storage.pointer, shape: kept)
        }
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let reduced = reducedShape(axes ?? Array(0..<rank), op: "mean").axes
        let n = reduced.map { shape[$0] }.reduce(1, *)
        return sum(alongAxes: reduced, keepingDimensions: keepingDimensions) * (1 / Float(n))
    }

    /// Biased variance (divides by n, like normalization layers do): mean((x - mean x)^2).
    /// Built from other ops, so its gradient comes for free.
    public func variance(alongAxes axes: [Int]? = nil, keepingDimensions: Bool = false) -> Tensor {
        let axes = axes ?? Array(0..<rank)
        let centered = self - mean(alongAxes: axes, keepingDimensions: true)
        return centered.squared().mean(alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// Maximum along one axis. The gradient goes to the first position that attains the maximum.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let axis = self.axis(axis, op: "max")
        require(shape[axis] > 0, "max: axis \(axis) of shape \(shape) is empty")
        let (outer, n, inner) = splitAround(axis)
        let out = TensorStorage(uninitializedCount: outer * inner)
        var argmax = [Int](repeating: 0, count: outer * inner)
        let x = storage.pointer
        for o in 0..<outer {
            for j in 0..<inner {
                var best = x[o * n * inner + j], bestIndex = 0
                for i in 1..<n where x[(o * n + i) * inner + j] > best {
                    best = x[(o * n + i) * inner + j]
                    bestIndex = i
                }
                out.pointer[o * inner + j] = best
                argmax[o * inner + j] = bestIndex
            }
        }
        var resultShape = shape
        if keepingDimensions { resultShape[axis] = 1 } else { resultShape.remove(at: axis) }
        return .result("max", shape: resultShape, storage: out, inputs: [self]) { result in
            let dx = result.parents[0].gradientPointer(), g = result.grad!.storage.pointer
            for o in 0..<outer {
                for j in 0..<inner { dx[(o * n + argmax[o * inner + j]) * inner + j] += g[o * inner + j] }
            }
        }
    }

    /// The shape seen as (outer, n, inner) around `axis`: element (o, i, j) is at (o * n + i) * inner + j.
    func splitAround(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// grad += broadcast(source), where `source` (contiguous, `shape`) broadcasts to this tensor's shape.
    func addBroadcast(_ source: UnsafePointer<Float>, shape sourceShape: [Int]) {
        let dx = gradientPointer()
        // Walk this tensor's shape; `dx` itself fills the unused contiguous-operand slot.
        accumulateBroadcast(into: dx, destShape: shape, shape: shape, g: dx,
                            x: source, xShape: sourceShape, y: source, yShape: sourceShape, SourceValue.self)
    }
}

/// The operand x itself, ignoring g (adding a broadcast source into a gradient).
enum SourceValue: GradientTerm {
    @inline(__always) static func term(_ g: Float, _ x: Float, _ y: Float) -> Float { x }
}
