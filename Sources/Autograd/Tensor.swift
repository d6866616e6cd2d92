// Tensor: an n-dimensional array of Float32 that remembers how it was computed.
//
// Conventions (the same as PyTorch's, so that code read here transfers):
// - storage is contiguous and row-major: the last axis varies fastest;
// - `shape` [] is a scalar (one element); an axis of size 0 is allowed;
// - every op returns a new tensor with fresh contiguous storage, except `reshaped` and `detached`,
//   which share their input's storage (no op ever writes into an input).
import Foundation

/// A contiguous buffer of `count` floats. It owns its memory and frees it in `deinit`.
///
/// Kernels read and write through `pointer` directly: subscripting a `[Float]` stored in a class
/// costs an exclusivity check and a uniqueness check per element, about 20x slower.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    /// Uninitialized memory: the caller must write every element.
    public init(uninitializedCount count: Int) {
        _ = TensorStorage.allocatorIsConfigured
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
    }

    /// A training step allocates and frees the same few megabytes of tensors again and again. By default
    /// glibc serves blocks over 128 KiB with fresh `mmap` pages and returns freed memory to the kernel,
    /// so every step pays about a thousand page faults (measured: 0.7 ms of a 2.5 ms MLP step, more
    /// than all the element kernels together). Raising the thresholds once keeps freed blocks in the
    /// process for reuse. The cost: memory is returned to the system only when the process ends.
    static let allocatorIsConfigured: Bool = {
        #if os(Linux)
        // <malloc.h> constants: M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3.
        _ = glibcMallopt(-3, 32 << 20)  // blocks up to 32 MiB (glibc's maximum) come from the heap
        _ = glibcMallopt(-1, 1 << 30)   // keep up to 1 GiB of freed heap instead of trimming it
        _ = glibcMallopt(-2, 64 << 20)  // grow the heap in 64 MiB steps
        #endif
        return true
    }()

    /// `count` zeros.
    public convenience init(zeros count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    /// A copy of `values`.
    public convenience init<C: Collection>(copying values: C) where C.Element == Float {
        self.init(uninitializedCount: values.count)
        _ = UnsafeMutableBufferPointer(start: pointer, count: count).initialize(from: values)
    }

    deinit { pointer.deallocate() }

    /// The elements as a buffer (for loops and `Array(buffer)`).
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)`, declared here because Swift's Glibc module does not
/// import <malloc.h>.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// An n-dimensional Float32 array and a node of the computation graph.
///
/// A tensor created by the user is a *leaf*. Set `requiresGradient` on the leaves you want
/// gradients for (parameters); every op whose inputs need a gradient records its inputs and a
/// backward rule, and `backward()` on a scalar result fills `grad` of every leaf that needs one.
public final class Tensor {
    /// The size of each axis, outermost first.
    public let shape: [Int]
    /// The elements, row-major.
    public let storage: TensorStorage
    /// The accumulated gradient of the last `backward()` calls, or nil. Same shape as `self`.
    public var grad: Tensor?
    /// Whether `backward()` should compute a gradient for this tensor (and for what it was computed from).
    public var requiresGradient: Bool
    /// The op that produced this tensor ("leaf" for user-made tensors); shown in errors and graph dumps.
    public let operation: String

    /// The inputs of the op that produced this tensor (empty for leaves and outside the graph).
    var parents: [Tensor] = []
    /// Adds this op's contribution to its inputs' gradients, given this tensor (whose `grad` is set).
    /// It receives the output as an argument instead of capturing it, so the graph holds no cycle.
    var backwardRule: ((Tensor) -> Void)?

    /// Wraps existing storage. `shape` must describe exactly `storage.count` elements.
    public init(shape: [Int], storage: TensorStorage, requiresGradient: Bool = false, operation: String = "leaf") {
        require(shape.allSatisfy { $0 >= 0 }, "Tensor: negative axis size in shape \(shape)")
        require(shape.reduce(1, *) == storage.count,
                     "Tensor: shape \(shape) holds \(shape.reduce(1, *)) elements but the storage has \(storage.count)")
        self.shape = shape
        self.storage = storage
        self.requiresGradient = requiresGradient
        self.operation = operation
    }

    /// A tensor with the given elements, row-major. `Tensor(shape: [2, 2], [1, 2, 3, 4])`.
    public convenience init(shape: [Int], _ scalars: [Float], requiresGradient: Bool = false) {
        require(shape.reduce(1, *) == scalars.count,
                     "Tensor(shape:_:): shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.init(shape: shape, storage: TensorStorage(copying: scalars), requiresGradient: requiresGradient)
    }

    /// A 1-D tensor. `Tensor([1, 2, 3])`.
    public convenience init(_ scalars: [Float], requiresGradient: Bool = false) {
        self.init(shape: [scalars.count], scalars, requiresGradient: requiresGradient)
    }

    /// A scalar (shape []).
    public convenience init(scalar: Float, requiresGradient: Bool = false) {
        self.init(shape: [], [scalar], requiresGradient: requiresGradient)
    }

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { storage.count }
    /// The elements, copied into an array (row-major).
    public var scalars: [Float] { Array(storage.buffer) }
    /// The only element of a one-element tensor (a loss, for example).
    public var item: Float {
        require(count == 1, "item: the tensor has shape \(shape) (\(count) elements), not one element")
        return storage.pointer[0]
    }
    /// Whether this tensor was made by the user rather than by an op that recorded a graph.
    public var isLeaf: Bool { backwardRule == nil }

    /// Element strides of a contiguous row-major array of this shape: `strides[i]` = product of `shape[(i+1)...]`.
    public var strides: [Int] { Tensor.contiguousStrides(shape) }

    /// The strides of a contiguous row-major array of `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// Reads one element: `x[1, 2]`. Slow (meant for tests and printing), never for loops.
    public subscript(indices: Int...) -> Float {
        require(indices.count == rank, "subscript: \(indices.count) indices for a tensor of shape \(shape)")
        var offset = 0
        for (axis, index) in indices.enumerated() {
            require(index >= 0 && index < shape[axis], "subscript: index \(index) out of range for axis \(axis) of shape \(shape)")
            offset = offset * shape[axis] + index
        }
        return storage.pointer[offset]
    }

    /// A normalized axis: negative axes count from the end, as in NumPy (`-1` is the last axis).
    public func axis(_ axis: Int, op: String) -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        require(normalized >= 0 && normalized < rank, "\(op): axis \(axis) is out of range for shape \(shape)")
        return normalized
    }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor(shape: [2, 3], op: matmul, [1.0, 2.0, ...])`, at most 8 elements shown.
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        let more = count > 8 ? ", ... (\(count) elements)" : ""
        return "Tensor(shape: \(shape), op: \(operation), [\(shown)\(more)])"
    }
}
