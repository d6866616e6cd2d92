// + - * / with NumPy broadcasting, and minimum, maximum, where.
//
// Derivatives (each input's gradient is then summed over the axes it was broadcast along):
//   a + b: da = g,      db = g          a - b: da = g,  db = -g
//   a * b: da = g * b,  db = g * a      a / b: da = g / b,  db = -g * a / b^2

extension Tensor {
    /// Shared shape of the arithmetic ops: forward by `Op.value`, backward by its two gradient terms.
    @inline(__always)
    static func arithmetic<Op: BinaryArithmetic>(_ name: String, _ a: Tensor, _ b: Tensor, _ op: Op.Type) -> Tensor {
        let shape = broadcastShape(a, b, op: name)
        let out = broadcastMap(a, b, shape: shape, op)
        return .result(name, shape: shape, storage: out, inputs: [a, b]) { result in
            let a = result.parents[0], b = result.parents[1], g = result.grad!.storage.pointer
            let pa = a.storage.pointer, pb = b.storage.pointer
            if a.requiresGradient, Op.gradientOfAIsG, a.shape == result.shape, a.grad == nil {
                // da = g (a + b, a - b) and a was not broadcast: a takes g's buffer over, no copy (the input of
                // a residual connection, in every block's backward pass).
                _ = a.gradientBufferTakingOver(result.grad!)
            } else if a.requiresGradient {
                let (dest, isFresh) = a.gradientBufferForOverwrite()
                accumulateBroadcast(into: dest, destShape: a.shape, shape: result.shape, overwrite: isFresh, g: g,
                                    x: pa, xShape: a.shape, y: pb, yShape: b.shape, GradientOfA<Op>.self)
            }
            if b.requiresGradient {
                let (dest, isFresh) = b.gradientBufferForOverwrite()
                accumulateBroadcast(into: dest, destShape: b.shape, shape: result.shape, overwrite: isFresh, g: g,
                                    x: pa, xShape: a.shape, y: pb, yShape: b.shape, GradientOfB<Op>.self)
            }
        }
    }

    /// a + b elementwise, with NumPy broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { arithmetic("add", a, b, Addition.self) }

    /// a - b elementwise, with NumPy broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { arithmetic("subtract", a, b, Subtraction.self) }

    /// a * b elementwise (not a matrix product; see `matmul`), with NumPy broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { arithmetic("multiply", a, b, Product.self) }

    /// a / b elementwise, with NumPy broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor { arithmetic("divide", a, b, Quotient.self) }

    /// -x elementwise.
    public static prefix func - (x: Tensor) -> Tensor {
        x.unary("negate", { -$0 }, derivative: { _, _ in -1 })
    }

    // Scalars on either side broadcast as shape-[] tensors.
    /// Adds a scalar to every element.
    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(scalar: b) }
    /// Adds a scalar to every element.
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) + b }
    /// Subtracts a scalar from every element.
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(scalar: b) }
    /// A scalar minus every element.
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) - b }
    /// Multiplies every element by a scalar.
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(scalar: b) }
    /// Multiplies every element by a scalar.
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) * b }
    /// Divides every element by a scalar.
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(scalar: b) }
    /// A scalar divided by every element.
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(scalar: a) / b }

    /// Elementwise minimum. The gradient goes to the smaller input (to `a` on ties).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { arithmetic("minimum", a, b, Minimum.self) }

    /// Elementwise maximum. The gradient goes to the larger input (to `a` on ties).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { arithmetic("maximum", a, b, Maximum.self) }

    /// `condition ? a : b` elementwise, all three broadcast together. `condition` is read as a mask
    /// (nonzero = true) and gets no gradient; `a` gets the gradient where the condition holds, `b` elsewhere.
    ///
    /// data2vec uses it to put a learned mask vector at masked positions:
    /// `Tensor.where(mask.reshaped([B, T, 1]), maskEmbedding, features)`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape: [Int]
        do { shape = try Broadcasting.shape(Broadcasting.shape(condition.shape, a.shape, op: "where"), b.shape, op: "where") }
        catch { shapeFailure(error) }
        let out = TensorStorage(uninitializedCount: shape.reduce(1, *))
        let o = out.pointer, pc = condition.storage.pointer, pa = a.storage.pointer, pb = b.storage.pointer
        let strides = [Tensor.contiguousStrides(shape)] + [condition, a, b].map {
            Broadcasting.strides(of: $0.shape, broadcastTo: shape)
        }
        forEachRowSideBySide(of: shape, strides: strides, written: 0) { offsets, steps, n in
            if steps[1] == 0 {  // one condition for the whole row (a mask per position): copy a row of a or of b
                let (source, step) = pc[offsets[1]] != 0 ? (pa + offsets[2], steps[2]) : (pb + offsets[3], steps[3])
                let row = o + offsets[0]
                if step == 1 { row.update(from: source, count: n) } else { for i in 0..<n { row[i] = source[i * step] } }
                return
            }
            for i in 0..<n {
                let selected = pc[offsets[1] + i * steps[1]] != 0
                o[offsets[0] + i] = selected ? pa[offsets[2] + i * steps[2]] : pb[offsets[3] + i * steps[3]]
            }
        }
        return .result("where", shape: shape, storage: out, inputs: [a, b]) { result in
            let a = result.parents[0], b = result.parents[1], g = result.grad!.storage.pointer
            let c = condition.storage.pointer
            if a.requiresGradient {
                accumulateBroadcast(into: a.gradientPointer(), destShape: a.shape, shape: result.shape, g: g,
                                    x: c, xShape: condition.shape, y: c, yShape: condition.shape, GradientWhereSelected.self)
            }
            if b.requiresGradient {
                accumulateBroadcast(into: b.gradientPointer(), destShape: b.shape, shape: result.shape, g: g,
                                    x: c, xShape: condition.shape, y: c, yShape: condition.shape, GradientWhereNotSelected.self)
            }
        }
    }
}

// The arithmetic of each op (the table at the top of this file), as types for the loops of ElementKernels.swift.

enum Addition: BinaryArithmetic {
    static let gradientOfAIsG = true
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
}

enum Subtraction: BinaryArithmetic {
    static let gradientOfAIsG = true
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float { -g }
}

enum Product: BinaryArithmetic {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float { g * b }
    @inline(__always) static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float { g * a }
}

enum Quotient: BinaryArithmetic {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float { g / b }
    @inline(__always) static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float { -g * a / (b * b) }
}

enum Minimum: BinaryArithmetic {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) }
    @inline(__always) static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float { a <= b ? g : 0 }
    @inline(__always) static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float { a <= b ? 0 : g }
}

enum Maximum: BinaryArithmetic {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) }
    @inline(__always) static func gradientOfA(_ g: Float, _ a: Float, _ b: Float) -> Float { a >= b ? g : 0 }
    @inline(__always) static func gradientOfB(_ g: Float, _ a: Float, _ b: Float) -> Float { a >= b ? 0 : g }
}

/// `where`'s gradient for `a`: g where the condition x is nonzero, else 0.
enum GradientWhereSelected: GradientTerm {
    @inline(__always) static func term(_ g: Float, _ x: Float, _ y: Float) -> Float { x != 0 ? g : 0 }
}

/// `where`'s gradient for `b`: g where the condition x is zero, else 0.
enum GradientWhereNotSelected: GradientTerm {
    @inline(__always) static func term(_ g: Float, _ x: Float, _ y: Float) -> Float { x != 0 ? 0 : g }
}
