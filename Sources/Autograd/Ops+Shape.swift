// Ops that move elements without computing on them: reshape, permute, expand, slice, concatenate,
// stack, pad. Their backward rules move the gradient back the same way (or sum it, for expand).

extension Tensor {
    /// The same elements in a new shape (one axis may be -1: inferred). Shares storage; no copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            require(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for shape \(shape)")
            newShape[inferred] = count / known
        }
        guard newShape.reduce(1, *) == count, newShape.allSatisfy({ $0 >= 0 }) else {
            shapeFailure(ShapeError("reshaped: shape \(shape) (\(count) elements) cannot become \(newShape)"))
        }
        return .result("reshape", shape: newShape, storage: storage, inputs: [self]) { result in
            // The input's gradient is the same numbers in its own shape: an input without one yet takes this
            // buffer over instead of a copy.
            let g = result.grad!.storage.pointer
            let (dx, isTakenOver) = result.parents[0].gradientBufferTakingOver(result.grad!)
            if !isTakenOver { for i in 0..<result.count { dx[i] += g[i] } }
        }
    }

    /// Reorders the axes: result axis i is input axis `axes[i]` (PyTorch's `permute`). Copies.
    public func permuted(_ axes: [Int]) -> Tensor {
        let axes = axes.map { axis($0, op: "permuted") }
        require(axes.count == rank && Set(axes).count == rank,
                     "permuted: \(axes) is not a permutation of the \(rank) axes of shape \(shape)")
        let outShape = axes.map { shape[$0] }
        let inStrides = strides
        let readStrides = axes.map { inStrides[$0] }  // where result axis i steps in the input
        let out = TensorStorage(uninitializedCount: count)
        let x = storage.pointer, o = out.pointer
        forEachRowSideBySide(of: outShape, strides: [Tensor.contiguousStrides(outShape), readStrides], written: 0) { offsets, steps, n in
            for i in 0..<n { o[offsets[0] + i] = x[offsets[1] + i * steps[1]] }
        }
        return .result("permute", shape: outShape, storage: out, inputs: [self]) { result in
            let (dx, isFresh) = result.parents[0].gradientBufferForOverwrite(), g = result.grad!.storage.pointer
            forEachRowSideBySide(of: outShape, strides: [Tensor.contiguousStrides(outShape), readStrides], written: 1) { offsets, steps, n in
                if isFresh {
                    for i in 0..<n { dx[offsets[1] + i * steps[1]] = g[offsets[0] + i] }
                } else {
                    for i in 0..<n { dx[offsets[1] + i * steps[1]] += g[offsets[0] + i] }
                }
            }
        }
    }

    /// Swaps two axes (by default the last two: a matrix transpose). Copies.
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(axis(first, op: "transposed"), axis(second, op: "transposed"))
        return permuted(axes)
    }

    /// Repeats size-1 (or missing leading) axes to reach `newShape`, by NumPy's broadcasting rules.
    /// Backward sums the gradient over the repeated axes.
    public func expanded(to newShape: [Int]) -> Tensor {
        do throws(ShapeError) {
            guard try Broadcasting.shape(shape, newShape, op: "expanded") == newShape else {
                throw ShapeError("expanded: shape \(shape) cannot be expanded to \(newShape) without changing it")
            }
        } catch { shapeFailure(error) }
        let out = TensorStorage(uninitializedCount: newShape.reduce(1, *))
        let x = storage.pointer, o = out.pointer
        let readStrides = Broadcasting.strides(of: shape, broadcastTo: newShape)
        forEachRow(of: newShape, strides: [Tensor.contiguousStrides(newShape), readStrides]) { offsets, steps, n in
            for i in 0..<n { o[offsets[0] + i] = x[offsets[1] + i * steps[1]] }
        }
        let inputShape = shape
        return .result("expand", shape: newShape, storage: out, inputs: [self]) { result in
            let g = result.grad!.storage.pointer
            accumulateBroadcast(into: result.parents[0].gradientPointer(), destShape: inputShape, shape: newShape,
                                g: g, x: g, xShape: newShape, y: g, yShape: newShape, IncomingGradient.self)
        }
    }

    /// The elements whose index along `axis` lies in `range`. Copies.
    public func sliced(_ range: Range<Int>, along axis: Int = 0) -> Tensor {
        let axis = self.axis(axis, op: "sliced")
        require(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "sliced: range \(range) is out of bounds for axis \(axis) of shape \(shape)")
        let (outer, n, inner) = splitAround(axis)
        var outShape = shape
        outShape[axis] = range.count
        let block = range.count * inner
        let out = TensorStorage(uninitializedCount: outer * block)
        for o in 0..<outer {
            (out.pointer + o * block).update(from: storage.pointer + (o * n + range.lowerBound) * inner, count: block)
        }
        return .result("slice", shape: outShape, storage: out, inputs: [self]) { result in
            let dx = result.parents[0].gradientPointer(), g = result.grad!.storage.pointer
            for o in 0..<outer {
                let source = g + o * block, dest = dx + (o * n + range.lowerBound) * inner
                for i in 0..<block { dest[i] += source[i] }
            }
        }
    }

    /// Joins tensors along an existing axis; all other axes must match.
    public static func concatenate(_ tensors: [Tensor], along axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "concatenate: no tensors given")
        let first = tensors[0]
        let axis = first.axis(axis, op: "concatenate")
        for t in tensors where t.rank != first.rank || (0..<first.rank).contains(where: { $0 != axis && t.shape[$0] != first.shape[$0] }) {
            shapeFailure(ShapeError("concatenate: shapes \(first.shape) and \(t.shape) differ outside axis \(axis)"))
        }
        let sizes = tensors.map { $0.shape[axis] }
        var outShape = first.shape
        outShape[axis] = sizes.reduce(0, +)
        let (outer, total, inner) = (first.shape[..<axis].reduce(1, *), outShape[axis], first.shape[(axis + 1)...].reduce(1, *))
        let out = TensorStorage(uninitializedCount: outShape.reduce(1, *))
        var start = 0
        for (t, size) in zip(tensors, sizes) {
            for o in 0..<outer {
                (out.pointer + (o * total + start) * inner).update(from: t.storage.pointer + o * size * inner, count: size * inner)
            }
            start += size
        }
        return .result("concatenate", shape: outShape, storage: out, inputs: tensors) { result in
            let g = result.grad!.storage.pointer
            var start = 0
            for (t, size) in zip(result.parents, sizes) {
                if t.requiresGradient {
                    let dx = t.gradientPointer()
                    for o in 0..<outer {
                        let source = g + (o * total + start) * inner, dest = dx + o * size * inner
                        for i in 0..<size * inner { dest[i] += source[i] }
                    }
                }
                start += size
            }
        }
    }

    /// Joins same-shape tensors along a new axis: n tensors of shape [A, B] stacked on axis 1 give [A, n, B].
    public static func stack(_ tensors: [Tensor], along axis: Int = 0) -> Tensor {
        require(!tensors.isEmpty, "stack: no tensors given")
        let shape = tensors[0].shape
        let axis = axis < 0 ? axis + shape.count + 1 : axis
        require(axis >= 0 && axis <= shape.count, "stack: axis \(axis) is out of range for shape \(shape)")
        for t in tensors where t.shape != shape {
            shapeFailure(ShapeError("stack: shapes \(shape) and \(t.shape) differ"))
        }
        var withAxis = shape
        withAxis.insert(1, at: axis)
        return concatenate(tensors.map { $0.reshaped(withAxis) }, along: axis)
    }

    /// Adds `padding[i].before` and `.after` elements of `value` on each side of axis i.
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) -> Tensor {
        require(padding.count == rank, "padded: \(padding.count) (before, after) pairs for shape \(shape)")
        require(padding.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padded: negative padding \(padding)")
        let outShape = zip(shape, padding).map { $0 + $1.before + $1.after }
        let outStrides = Tensor.contiguousStrides(outShape)
        let origin = zip(padding, outStrides).map { $0.before * $1 }.reduce(0, +)  // where input element 0 lands
        let out = TensorStorage(uninitializedCount: outShape.reduce(1, *))
        out.pointer.initialize(repeating: value, count: out.count)
        let x = storage.pointer, o = out.pointer + origin
        forEachRow(of: shape, strides: [outStrides, strides]) { offsets, steps, n in
            for i in 0..<n { o[offsets[0] + i * steps[0]] = x[offsets[1] + i] }
        }
        let inputStrides = strides
        return .result("pad", shape: outShape, storage: out, inputs: [self]) { result in
            let input = result.parents[0]
            let dx = input.gradientPointer(), g = result.grad!.storage.pointer + origin
            forEachRow(of: input.shape, strides: [outStrides, inputStrides]) { offsets, steps, n in
                for i in 0..<n { dx[offsets[1] + i] += g[offsets[0] + i * steps[0]] }
            }
        }
    }
}
