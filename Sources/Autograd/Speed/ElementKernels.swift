// The two loops that every elementwise op with broadcasting is made of, and the per-element arithmetic
// they run. That arithmetic is a type, not a closure: the loops are generic over it, so each op gets its
// own compiled copy with its arithmetic inlined, and the contiguous case is a plain vectorized loop. (A
// closure captured by a loop body that may run on another thread stayed a call per element, its loops
// scalar: the residual additions and their gradients were a tenth of a two-thread vision-tiny step.)

/// Elementwise loops shorter than twice this many floats run on one thread: below that, waking a second
/// thread (a few microseconds, more under load) costs about as much as the pass it would share.
let elementsPerChunk = 1 << 16

/// The arithmetic of an elementwise op with two inputs: its value and, given g = dL/dout, what each input
/// element adds to its gradient. `Ops+Arithmetic.swift` declares one per op (Addition, Product, ...).
protocol BinaryArithmetic {
    /// out = value(a, b).
    static func value(_ a: Float, _ b: Float) -> Float
    /// g * d out / d a.
    static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float
    /// g * d out / d b.
    static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float
    /// Whether `gradientOfA(g, a, b)` is g itself (the first input's gradient is the output's).
    static var gradientOfAIsG: Bool { get }
}

extension BinaryArithmetic {
    static var gradientOfAIsG: Bool { false }
}

/// What one element of an op's output adds to an input's gradient: term(g, x, y), from the incoming
/// gradient g and two operands x and y read alongside it (either may be ignored).
protocol GradientTerm {
    static func term(_ g: Float, _ x: Float, _ y: Float) -> Float
}

/// The gradient term of a `BinaryArithmetic` op for its first input, with x = a and y = b.
enum GradientOfA<Op: BinaryArithmetic>: GradientTerm {
    @inline(__always) static func term(_ g: Float, _ x: Float, _ y: Float) -> Float { Op.gradientOfA(g, x, y) }
}

/// The gradient term of a `BinaryArithmetic` op for its second input, with x = a and y = b.
enum GradientOfB<Op: BinaryArithmetic>: GradientTerm {
    @inline(__always) static func term(_ g: Float, _ x: Float, _ y: Float) -> Float { Op.gradientOfB(g, x, y) }
}

/// The incoming gradient itself (an input that was copied: broadcast, summed).
enum IncomingGradient: GradientTerm {
    @inline(__always) static func term(_ g: Float, _ x: Float, _ y: Float) -> Float { g }
}

/// `out[i] = Op.value(a[i'], b[i''])` over the broadcast shape of `a` and `b` (i', i'' the broadcast indices).
@inline(__always)
func broadcastMap<Op: BinaryArithmetic>(_ a: Tensor, _ b: Tensor, shape: [Int], _ op: Op.Type) -> TensorStorage {
    let out = TensorStorage(uninitializedCount: shape.reduce(1, *))
    let o = out.pointer, pa = a.storage.pointer, pb = b.storage.pointer
    if a.shape == b.shape {  // the common case: one flat loop (split across threads when large)
        Parallel.forEachChunk(of: out.count, minimumPerChunk: elementsPerChunk) { range in
            for i in range { o[i] = Op.value(pa[i], pb[i]) }
        }
        return out
    }
    let strides = [Tensor.contiguousStrides(shape),
                   Broadcasting.strides(of: a.shape, broadcastTo: shape),
                   Broadcasting.strides(of: b.shape, broadcastTo: shape)]
    forEachRowSideBySide(of: shape, strides: strides, written: 0) { offsets, steps, n in
        let o = o + offsets[0], pa = pa + offsets[1], pb = pb + offsets[2]
        switch (steps[1], steps[2]) {
        case (1, 1): for i in 0..<n { o[i] = Op.value(pa[i], pb[i]) }
        case (1, 0): let y = pb[0]; for i in 0..<n { o[i] = Op.value(pa[i], y) }
        case (0, 1): let x = pa[0]; for i in 0..<n { o[i] = Op.value(x, pb[i]) }
        default: for i in 0..<n { o[i] = Op.value(pa[i * steps[1]], pb[i * steps[2]]) }
        }
    }
    return out
}

/// `dest[j] += Term.term(g[i], x[i'], y[i''])` summed over every output index i that maps to dest index j.
///
/// This is the backward of broadcasting: an input that was broadcast along an axis receives the *sum*
/// of the gradients along that axis. `g` is contiguous with `shape`; `dest`, `x` and `y` are read with
/// broadcast strides for their own shapes. With `overwrite` (a fresh, uninitialized gradient buffer),
/// `dest` is assigned instead of added to, which saves zero-filling it first.
@inline(__always)
func accumulateBroadcast<Term: GradientTerm>(
    into dest: UnsafeMutablePointer<Float>, destShape: [Int], shape: [Int], overwrite: Bool = false,
    g: UnsafePointer<Float>,
    x: UnsafePointer<Float>, xShape: [Int], y: UnsafePointer<Float>, yShape: [Int],
    _ term: Term.Type
) {
    if destShape == shape && xShape == shape && yShape == shape {
        Parallel.forEachChunk(of: shape.reduce(1, *), minimumPerChunk: elementsPerChunk) { range in
            if overwrite {
                for i in range { dest[i] = Term.term(g[i], x[i], y[i]) }
            } else {
                for i in range { dest[i] += Term.term(g[i], x[i], y[i]) }
            }
        }
        return
    }
    if overwrite { dest.initialize(repeating: 0, count: destShape.reduce(1, *)) }
    let strides = [Broadcasting.strides(of: destShape, broadcastTo: shape),
                   Tensor.contiguousStrides(shape),
                   Broadcasting.strides(of: xShape, broadcastTo: shape),
                   Broadcasting.strides(of: yShape, broadcastTo: shape)]
    forEachRowSideBySide(of: shape, strides: strides, written: 0) { offsets, steps, n in
        let d = dest + offsets[0], g = g + offsets[1], x = x + offsets[2], y = y + offsets[3]
        if steps[0] == 1 && steps[2] == 1 && steps[3] == 1 {
            for i in 0..<n { d[i] += Term.term(g[i], x[i], y[i]) }
        } else if steps[0] == 1 && steps[2] == 0 && steps[3] == 0 {  // x and y constant along the row (a mask per row)
            let (x, y) = (x[0], y[0])
            for i in 0..<n { d[i] += Term.term(g[i], x, y) }
        } else if steps[0] == 0 {  // reducing along the row: sum first, add once
            var sum: Float = 0
            for i in 0..<n { sum += Term.term(g[i], x[i * steps[2]], y[i * steps[3]]) }
            d[0] += sum
        } else {
            for i in 0..<n { d[i * steps[0]] += Term.term(g[i], x[i * steps[2]], y[i * steps[3]]) }
        }
    }
}

extension Tensor {
    /// The shape of `a op b`, or a stop naming the op and both shapes.
    static func broadcastShape(_ a: Tensor, _ b: Tensor, op: String) -> [Int] {
        do { return try Broadcasting.shape(a.shape, b.shape, op: op) } catch { shapeFailure(error) }
    }

    /// An elementwise op of one tensor: `y = f(x)`, with `dx += g * derivative(x, y)`.
    @inline(__always)
    func unary(
        _ op: String, _ f: (Float) -> Float,
        derivative: @escaping (_ x: Float, _ y: Float) -> Float
    ) -> Tensor {
        let out = TensorStorage(uninitializedCount: count)
        let x = storage.pointer, o = out.pointer
        for i in 0..<count { o[i] = f(x[i]) }
        return .result(op, shape: shape, storage: out, inputs: [self]) { result in
            let input = result.parents[0]
            let x = input.storage.pointer, y = result.storage.pointer, g = result.grad!.storage.pointer
            let (dx, isFresh) = input.gradientBufferForOverwrite()
            if isFresh {
                for i in 0..<result.count { dx[i] = g[i] * derivative(x[i], y[i]) }
            } else {
                for i in 0..<result.count { dx[i] += g[i] * derivative(x[i], y[i]) }
            }
        }
    }
}
