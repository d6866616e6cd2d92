// Shapes and broadcasting, following NumPy's rules:
// align shapes at their last axis; two sizes are compatible when they are equal or one of them is 1;
// a missing leading axis counts as 1. [4, 3] with [3] -> [4, 3]; [2, 1, 5] with [3, 1] -> [2, 3, 5].

/// A shape mismatch, naming the op and the shapes involved.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// The message: which op and which shapes.
    public let description: String
    /// A shape error with its message.
    public init(_ description: String) { self.description = description }
}

/// Stops the program with a shape error. The engine treats shape errors as programming errors, like
/// an array index out of range: the message says which op and which shapes.
func shapeFailure(_ error: ShapeError) -> Never {
    fatalError(error.description)
}

/// NumPy's broadcasting rules, as a function of two shapes.
public enum Broadcasting {
    /// The shape that `a` and `b` broadcast to, or an error that names `op` and both shapes.
    public static func shape(_ a: [Int], _ b: [Int], op: String) throws(ShapeError) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else {
                throw ShapeError("\(op): shapes \(a) and \(b) cannot be broadcast together (axis \(i) from the left of the aligned shapes: \(x) vs \(y))")
            }
            result[i] = x == 1 ? y : x
        }
        return result
    }

    /// Element strides of a contiguous tensor of `shape` read as if it had `target` shape:
    /// 0 on axes where it is broadcast (size 1, or missing on the left).
    static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        let own = Tensor.contiguousStrides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }
}

/// Walks every element of `shape` one row at a time, keeping one running element offset per operand.
///
/// `strides[k][axis]` is operand k's stride along `axis` (0 where operand k is broadcast). Axes that
/// can be merged are merged first (size-1 axes dropped; neighbours fused when every operand is
/// contiguous across them), so two same-shape tensors make one long row and a bias add over [N, D]
/// makes N rows of D. `body(offsets, steps, rowLength)` handles one row: operand k's elements are
/// `offsets[k] + i * steps[k]` for i in 0..<rowLength.
@inline(__always)
func forEachRow(
    of shape: [Int], strides: [[Int]],
    _ body: (_ offsets: UnsafeMutableBufferPointer<Int>, _ steps: UnsafeBufferPointer<Int>, _ rowLength: Int) -> Void
) {
    let operands = strides.count
    if shape.contains(0) { return }
    // 1. Merge axes.
    var dims: [Int] = []
    var merged: [[Int]] = Array(repeating: [], count: operands)
    for axis in 0..<shape.count where shape[axis] != 1 {
        if let last = dims.last,
           (0..<operands).allSatisfy({ merged[$0].last! == strides[$0][axis] * shape[axis] }) {
            dims[dims.count - 1] = last * shape[axis]
            for k in 0..<operands { merged[k][merged[k].count - 1] = strides[k][axis] }
        } else {
            dims.append(shape[axis])
            for k in 0..<operands { merged[k].append(strides[k][axis]) }
        }
    }
    if dims.isEmpty {  // a single element
        dims = [1]
        for k in 0..<operands { merged[k] = [0] }
    }
    // 2. Walk the outer axes with an odometer; the last axis is the row.
    let rowLength = dims[dims.count - 1]
    let outerRank = dims.count - 1
    let steps = UnsafeMutableBufferPointer<Int>.allocate(capacity: operands)
    let offsets = UnsafeMutableBufferPointer<Int>.allocate(capacity: operands)
    var index = [Int](repeating: 0, count: outerRank)
    defer { steps.deallocate(); offsets.deallocate() }
    for k in 0..<operands { steps[k] = merged[k][outerRank]; offsets[k] = 0 }
    let rows = dims.dropLast().reduce(1, *)
    for _ in 0..<rows {
        body(offsets, UnsafeBufferPointer(steps), rowLength)
        // advance the odometer
        var axis = outerRank - 1
        while axis >= 0 {
            index[axis] += 1
            for k in 0..<operands { offsets[k] += merged[k][axis] }
            if index[axis] < dims[axis] { break }
            for k in 0..<operands { offsets[k] -= merged[k][axis] * dims[axis] }
            index[axis] = 0
            axis -= 1
        }
    }
}

/// `forEachRow`, with the first axis cut into contiguous parts that run side by side on Parallel's threads
/// when there are enough elements (twice `elementsPerChunk`). Within a part every operand is walked in the
/// same order as by `forEachRow`, so the floats are the same, provided no element of operand `written` is
/// reached from two parts: the caller names the operand it writes, and when that operand repeats along the
/// first axis (stride 0 there: a sum over it, such as a bias's gradient) the walk stays on one thread.
@inline(__always)
func forEachRowSideBySide(
    of shape: [Int], strides: [[Int]], written: Int,
    _ body: (_ offsets: UnsafeMutableBufferPointer<Int>, _ steps: UnsafeBufferPointer<Int>, _ rowLength: Int) -> Void
) {
    let count = shape.reduce(1, *), first = shape.first ?? 1
    let parts = Parallel.chunkCount(of: first, minimumPerChunk: Swift.max(1, elementsPerChunk / Swift.max(1, count / Swift.max(1, first))))
    guard parts > 1, strides[written][0] != 0 else { return forEachRow(of: shape, strides: strides, body) }
    let inner = Array(shape.dropFirst())
    Parallel.forEachChunk(of: first, chunks: parts) { part in
        let base = strides.map { $0[0] * part.lowerBound }
        forEachRow(of: [part.count] + inner, strides: strides) { offsets, steps, n in
            for k in base.indices { offsets[k] += base[k] }
            body(offsets, steps, n)
            for k in base.indices { offsets[k] -= base[k] }
        }
    }
}

/// Stops the program with `message` when `condition` is false: a programming error, such as a wrong shape
/// or an argument out of range. Unlike `precondition`, whose message release builds drop (they print only
/// "precondition failure"), the message is always printed.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
