// Gathering and scattering along an axis: embedding lookup, selecting positions, and putting values
// at positions (how a masked position gets its mask embedding).

extension Tensor {
    /// The slices at `indices` along `axis`, in that order (PyTorch's `index_select`). Indices may repeat.
    /// Result shape: this shape with `axis` resized to `indices.count`.
    ///
    /// An embedding lookup is `table.indexSelect(tokenIDs, along: 0)` on a [vocabulary, D] table; its
    /// backward adds each row's gradient into the table row it came from (repeated tokens add up).
    public func indexSelect(_ indices: [Int], along axis: Int = 0) -> Tensor {
        let axis = self.axis(axis, op: "indexSelect")
        let (outer, n, inner) = splitAround(axis)
        for index in indices where index < 0 || index >= n {
            shapeFailure(ShapeError("indexSelect: index \(index) is out of range for axis \(axis) of shape \(shape)"))
        }
        var outShape = shape
        outShape[axis] = indices.count
        let out = TensorStorage(uninitializedCount: outShape.reduce(1, *))
        // Slice s of the output is slice picked[s % k] of block s / k of the input, copied with vector loads
        // and stores (not a memmove call per row of 64 floats). Rows scattered over the input are slower to
        // gather than a contiguous pass, so the lookup splits across threads from a quarter of the usual size.
        let (source, k) = (storage.pointer, indices.count)
        indices.withUnsafeBufferPointer { picked in
            Parallel.forEachChunk(of: outer * k, minimumPerChunk: Swift.max(1, elementsPerChunk / 4 / Swift.max(inner, 1))) { slices in
                for s in slices { mapLanes(source + (s / k * n + picked[s % k]) * inner, out.pointer + s * inner, inner) { $0 } }
            }
        }
        return .result("indexSelect", shape: outShape, storage: out, inputs: [self]) { result in
            let dx = result.parents[0].gradientPointer(), g = result.grad!.storage.pointer
            // One thread, in index order: a repeated index (a token that occurs twice) adds to the same row.
            indices.withUnsafeBufferPointer { picked in
                for o in 0..<outer {
                    for j in 0..<k {
                        let dest = dx + (o * n + picked[j]) * inner
                        mapLanes(dest, g + (o * k + j) * inner, dest, inner) { $0 + $1 }
                    }
                }
            }
        }
    }

    /// A copy of this tensor whose slices at `indices` along `axis` are replaced by `values`
    /// (PyTorch's `index_put`, or `x[indices] = values` without mutation). Indices must be distinct.
    /// `values` has this shape with `axis` resized to `indices.count`.
    /// Gradients: `values` gets the gradient at the replaced slices; `self` everywhere else.
    public func indexPut(_ indices: [Int], along axis: Int = 0, values: Tensor) -> Tensor {
        let axis = self.axis(axis, op: "indexPut")
        let (outer, n, inner) = splitAround(axis)
        var expected = shape
        expected[axis] = indices.count
        guard values.shape == expected else {
            shapeFailure(ShapeError("indexPut: values of shape \(values.shape) do not fit \(indices.count) slices of shape \(shape) along axis \(axis) (expected \(expected))"))
        }
        require(Set(indices).count == indices.count, "indexPut: indices must be distinct")
        for index in indices where index < 0 || index >= n {
            shapeFailure(ShapeError("indexPut: index \(index) is out of range for axis \(axis) of shape \(shape)"))
        }
        let out = TensorStorage(copying: storage.buffer)
        for o in 0..<outer {
            for (j, index) in indices.enumerated() {
                (out.pointer + (o * n + index) * inner).update(from: values.storage.pointer + (o * indices.count + j) * inner, count: inner)
            }
        }
        return .result("indexPut", shape: shape, storage: out, inputs: [self, values]) { result in
            let input = result.parents[0], values = result.parents[1], g = result.grad!.storage.pointer
            if input.requiresGradient {
                let dx = input.gradientPointer()
                var replaced = [Bool](repeating: false, count: n)
                for index in indices { replaced[index] = true }
                for o in 0..<outer {
                    for i in 0..<n where !replaced[i] {
                        for k in 0..<inner { dx[(o * n + i) * inner + k] += g[(o * n + i) * inner + k] }
                    }
                }
            }
            if values.requiresGradient {
                let dv = values.gradientPointer()
                for o in 0..<outer {
                    for (j, index) in indices.enumerated() {
                        for k in 0..<inner { dv[(o * indices.count + j) * inner + k] += g[(o * n + index) * inner + k] }
                    }
                }
            }
        }
    }

    /// `value` where `mask` (broadcast to this shape) is nonzero, this tensor elsewhere.
    /// No gradient flows to the filled positions.
    public func maskedFill(_ mask: Tensor, with value: Float) -> Tensor {
        Tensor.where(mask, Tensor(scalar: value), self)
    }
}
