// Softmax, log-softmax and the fused softmax cross-entropy, along one axis.
//
// Numerics: the maximum is subtracted before exponentiating (log-sum-exp), so no input overflows.
//   softmax:      y_i = e^(x_i - m) / sum_j e^(x_j - m)       dx_i = y_i (g_i - sum_j g_j y_j)
//   log-softmax:  y_i = x_i - m - log sum_j e^(x_j - m)       dx_i = g_i - softmax_i * sum_j g_j
import Foundation

extension Tensor {
    /// Softmax along `axis` (default: the last). Each slice along the axis sums to 1.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = self.axis(axis, op: "softmax")
        let (outer, n, inner) = splitAround(axis)
        let out = TensorStorage(uninitializedCount: count)
        forEachSlice(outer: outer, n: n, inner: inner) { base in
            softmaxSlice(storage.pointer + base, out.pointer + base, n: n, stride: inner, logarithm: false)
        }
        return .result("softmax", shape: shape, storage: out, inputs: [self]) { result in
            let y = result.storage.pointer, g = result.grad!.storage.pointer
            let (dx, isFresh) = result.parents[0].gradientBufferForOverwrite()
            forEachSlice(outer: outer, n: n, inner: inner) { base in
                var dot: Float = 0
                for i in 0..<n { dot += g[base + i * inner] * y[base + i * inner] }
                if isFresh {
                    for i in 0..<n { dx[base + i * inner] = y[base + i * inner] * (g[base + i * inner] - dot) }
                } else {
                    for i in 0..<n { dx[base + i * inner] += y[base + i * inner] * (g[base + i * inner] - dot) }
                }
            }
        }
    }

    /// log(softmax(x)) along `axis`, computed stably (never as the log of a rounded probability).
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = self.axis(axis, op: "logSoftmax")
        let (outer, n, inner) = splitAround(axis)
        let out = TensorStorage(uninitializedCount: count)
        forEachSlice(outer: outer, n: n, inner: inner) { base in
            softmaxSlice(storage.pointer + base, out.pointer + base, n: n, stride: inner, logarithm: true)
        }
        return .result("logSoftmax", shape: shape, storage: out, inputs: [self]) { result in
            let y = result.storage.pointer, g = result.grad!.storage.pointer
            let dx = result.parents[0].gradientPointer()
            forEachSlice(outer: outer, n: n, inner: inner) { base in
                var sum: Float = 0
                for i in 0..<n { sum += g[base + i * inner] }
                for i in 0..<n { dx[base + i * inner] += g[base + i * inner] - expf(y[base + i * inner]) * sum }
            }
        }
    }

    /// Mean cross-entropy of `logits` [N, C] against class indices `labels` (N of them), fused with the
    /// softmax: loss = mean over counted rows of -log softmax(logits)[label]. Rows whose label equals
    /// `ignoredLabel` do not count (as PyTorch's `ignore_index`). d logits = (softmax - onehot) / count.
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int], ignoredLabel: Int? = nil) -> Tensor {
        guard logits.rank == 2, logits.shape[0] == labels.count else {
            shapeFailure(ShapeError("softmaxCrossEntropy: logits of shape \(logits.shape) need shape [N, C] with N = \(labels.count) labels"))
        }
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        let counted = labels.filter { $0 != ignoredLabel }
        for label in counted where label < 0 || label >= classes {
            shapeFailure(ShapeError("softmaxCrossEntropy: label \(label) is out of range for \(classes) classes"))
        }
        let logProbabilities = TensorStorage(uninitializedCount: logits.count)
        var total: Float = 0
        for r in 0..<rows {
            softmaxSlice(logits.storage.pointer + r * classes, logProbabilities.pointer + r * classes,
                         n: classes, stride: 1, logarithm: true)
            if labels[r] != ignoredLabel { total -= logProbabilities.pointer[r * classes + labels[r]] }
        }
        let scale = counted.isEmpty ? 0 : 1 / Float(counted.count)
        let loss = TensorStorage(copying: [total * scale])
        return .result("softmaxCrossEntropy", shape: [], storage: loss, inputs: [logits]) { result in
            let g = result.grad!.storage.pointer[0] * scale
            let dx = result.parents[0].gradientPointer(), lp = logProbabilities.pointer
            for r in 0..<rows where labels[r] != ignoredLabel {
                for c in 0..<classes { dx[r * classes + c] += g * expf(lp[r * classes + c]) }
                dx[r * classes + labels[r]] -= g
            }
        }
    }
}

/// Calls `body(base)` for every 1-D slice along the middle axis of an (outer, n, inner) layout;
/// the slice's elements are at base + i * inner.
@inline(__always)
func forEachSlice(outer: Int, n: Int, inner: Int, _ body: (Int) -> Void) {
    for o in 0..<outer { for j in 0..<inner { body(o * n * inner + j) } }
}

/// Softmax (or log-softmax) of n elements spaced `stride` apart, from `x` into `y`.
@inline(__always)
func softmaxSlice(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, stride: Int, logarithm: Bool) {
    if stride == 1 && !logarithm { return softmaxContiguous(x, y, n: n) }
    var maximum = -Float.infinity
    for i in 0..<n { maximum = max(maximum, x[i * stride]) }
    if maximum == -.infinity { maximum = 0 }  // all -inf (fully masked): avoid inf - inf
    var sum: Float = 0
    for i in 0..<n {
        let e = expf(x[i * stride] - maximum)
        y[i * stride] = e
        sum += e
    }
    if logarithm {
        let logSum = logf(sum)
        for i in 0..<n { y[i * stride] = x[i * stride] - maximum - logSum }
    } else {
        let inverse = 1 / sum
        for i in 0..<n { y[i * stride] *= inverse }
    }
}

/// The common case (softmax over the last axis, e.g. attention rows) as simple loops that vectorize,
/// with the branch-free `fastExp` and the SIMD reductions of FastMath.swift. `x` and `y` may be the same.
@inline(__always)
func softmaxContiguous(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int) {
    var maximum = vectorMax(x, n)
    if maximum == -.infinity { maximum = 0 }
    mapLanes(x, y, n) { fastExp($0 - maximum) }
    let inverse = 1 / vectorSum(y, n)
    mapLanes(y, y, n) { $0 * inverse }
}
