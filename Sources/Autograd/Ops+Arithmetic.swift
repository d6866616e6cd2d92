// + - * / with NumPy broadcasting, and minimum, maximum, where.
//
// Derivatives (each input's gradient is then summed over the axes it was broadcast along):
//   a + b: da = g,      db = g          a - b: da = g,  db = -g
//   a * b: da = g * b,  db = g * a      a / b: da = g / b,  db = -g * a / b^2

extension Tensor {
    /// Shared shape of the four arithmetic ops: forward by `f`, backward by `da` and `db`.
    @inline(__always)
    static func arithmetic(
        _ op: String, _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float,
        da: @escaping (_ g: Float, _ a: Float, _ b: Float) -> Float,
        db: @escaping (_ g: Float, _ a: Float, _ b: Float) -> Float
    ) -> Tensor {
        let shape = broadcastShape(a, b, op: op)
        let out = broadcastMap(a, b, shape: shape, f)
        return .result(op, shape: shape, storage: out, inputs: [a, b]) { result in
            let a = result.parents[0], b = result.parents[1], g = result.grad!.storage.pointer
            let pa = a.storage.pointer, pb = b.storage.pointer
            if a.requiresGradient {
                let (dest, isFresh) = a.gradientBufferForOverwrite()
                accumulateBroadcast(into: dest, destShape: a.shape, shape: result.shape, overwrite: isFresh, g: g,
                                    x: pa, xShape: a.shape, y: pb, yShape: b.shape, da)
            }
            if b.requiresGradient {
                let (dest, isFresh) = b.gradientBufferForOverwrite()
                accumulateBroadcast(into: dest, destShape: b.shape, shape: result.shape, overwrite: isFresh, g: g,
                                    x: pa, xShape: a.shape, y: pb, yShape: b.shape, db)
            }
        }
    }

    /// a + b elementwise, with NumPy broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        arithmetic("add", a, b, +, da: { g, _, _ in g }, db: { g, _, _ in g })
    }

    /// a - b elementwise, with NumPy broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        arithmetic("subtract", a, b, -, da: { g, _, _ in g }, db: { g, _, _ in -g })
    }

    /// a * b elementwise (not a matrix product; see `matmul`), with NumPy broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        arithmetic("multiply", a, b, *, da: { g, _, b in g * b }, db: { g, a, _ in g * a })
    }

    /// a / b elementwise, with NumPy broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        arithmetic("divide", a, b, /, da: { g, _, b in g / b }, db: { g, a, b in -g * a / (b * b) })
    }

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
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        arithmetic("minimum", a, b, { Swift.min($0, $1) },
                   da: { g, a, b in a <= b ? g : 0 }, db: { g, a, b in a <= b ? 0 : g })
    }

    /// Elementwise maximum. The gradient goes to the larger input (to `a` on ties).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        arithmetic("maximum", a, b, { Swift.max($0, $1) },
                   da: { g, a, b in a >= b ? g : 0 }, db: { g, a, b in a >= b ? 0 : g })
    }

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
        forEachRow(of: shape, strides: strides) { offsets, steps, n in
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
                                    x: c, xShape: condition.shape, y: c, yShape: condition.shape) { g, c, _ in c != 0 ? g : 0 }
            }
            if b.requiresGradient {
                accumulateBroadcast(into: b.gradientPointer(), destShape: b.shape, shape: result.shape, g: g,
                                    x: c, xShape: condition.shape, y: c, yShape: condition.shape) { g, c, _ in c != 0 ? 0 : g }
            }
        }
    }
}
