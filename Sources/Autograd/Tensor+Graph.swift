// Reverse-mode automatic differentiation (backpropagation).
//
// Every op builds its output with `Tensor.result(...)`. When gradients are being recorded and an input
// requires a gradient, the output keeps its inputs (`parents`) and a backward rule. `backward()` sorts
// the graph topologically once and runs the rules from the output back to the leaves; each rule adds
// (never assigns) its contribution to the inputs' `grad`, which is how a tensor used twice gets the
// sum of both paths (the multivariate chain rule).
import Foundation

/// Whether ops record the graph. Off inside `Tensor.withoutGradients { }`.
///
/// A task-local value rather than a global: `swift test` runs tests on several threads at once, and a
/// teacher running without gradients on one thread must not switch off recording on another.
public enum GradientRecording {
    /// True outside `Tensor.withoutGradients { }`.
    @TaskLocal public static var isEnabled = true
}

extension Tensor {
    /// Runs `body` without recording a graph: the results of ops have no parents and need no gradient.
    /// This is how data2vec's teacher runs (it is never trained by backpropagation), and it saves the
    /// memory that the graph would keep alive.
    public static func withoutGradients<Result>(_ body: () throws -> Result) rethrows -> Result {
        try GradientRecording.$isEnabled.withValue(false) { try body() }
    }

    /// Whether an op on `inputs` records the graph: some input needs a gradient and recording is on (outside
    /// `withoutGradients`). Ops that keep extra state for their backward pass ask this first.
    static func recordsGraph(for inputs: [Tensor]) -> Bool {
        inputs.contains { $0.requiresGradient } && GradientRecording.isEnabled
    }

    /// The output node of an op. `backward` is recorded only if recording is on and an input needs a gradient.
    ///
    /// - Parameters:
    ///   - backward: given the output (with its `grad` set), adds the op's contribution to the inputs'
    ///     gradients. It must not capture the output (that would be a reference cycle).
    static func result(
        _ operation: String, shape: [Int], storage: TensorStorage, inputs: [Tensor],
        backward: @escaping (Tensor) -> Void
    ) -> Tensor {
        let needsGradient = recordsGraph(for: inputs)
        let output = Tensor(shape: shape, storage: storage, requiresGradient: needsGradient, operation: operation)
        if needsGradient {
            output.parents = inputs
            output.backwardRule = backward
        }
        return output
    }

    /// A tensor with the same storage and no history: gradients do not flow through it.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage, requiresGradient: false, operation: "detached")
    }

    /// Forgets the accumulated gradient (the next `backward()` starts from zero).
    public func zeroGradient() { grad = nil }

    /// The gradient buffer, created as zeros on first use. Backward rules add into it.
    func gradientPointer() -> UnsafeMutablePointer<Float> {
        if let grad { return grad.storage.pointer }
        let zeros = Tensor(shape: shape, storage: TensorStorage(zeros: count), operation: "grad")
        grad = zeros
        return zeros.storage.pointer
    }

    /// The gradient buffer for a rule that *overwrites* it when nobody wrote it yet: returns the buffer
    /// and `true` when it was just created (uninitialized: the caller must write every element), or the
    /// existing buffer and `false` (the caller must add). Saves zero-filling large gradients, e.g. a
    /// matrix product writes dW with beta = 0 on first use and beta = 1 afterwards.
    func gradientBufferForOverwrite() -> (pointer: UnsafeMutablePointer<Float>, isFresh: Bool) {
        if let grad { return (grad.storage.pointer, false) }
        let buffer = Tensor(shape: shape, storage: TensorStorage(uninitializedCount: count), operation: "grad")
        grad = buffer
        return (buffer.storage.pointer, true)
    }

    /// The gradient buffer for a rule whose input's gradient is computed element by element from the output's
    /// (dx[i] from g[i] and values at index i), `outputGradient` of the same count: an input without a gradient
    /// yet takes that buffer over, and the rule overwrites it in place, reading each g[i] before it writes
    /// dx[i] (the output's gradient is released as soon as its rule returns). Returns the buffer and `true`
    /// when taken over (it holds g), or the existing buffer and `false` (the rule must add). Taking over saves
    /// a new buffer and a pass that writes to memory not yet in the cache.
    func gradientBufferTakingOver(_ outputGradient: Tensor) -> (pointer: UnsafeMutablePointer<Float>, isTakenOver: Bool) {
        if let grad { return (grad.storage.pointer, false) }
        require(outputGradient.count == count, "gradientBufferTakingOver: \(outputGradient.count) gradient elements for \(count) values")
        grad = Tensor(shape: shape, storage: outputGradient.storage, operation: "grad")
        return (outputGradient.storage.pointer, true)
    }

    /// Computes the gradient of this tensor with respect to every tensor it was computed from that
    /// requires a gradient, and adds it to their `grad`.
    ///
    /// - Parameter seed: d(something)/d(self); by default 1, which needs `self` to be a scalar (a loss).
    ///
    /// As in PyTorch, the graph is consumed: the backward rules and the gradients of intermediate
    /// (non-leaf) tensors are released as soon as they have been used, and the leaves keep their `grad`.
    public func backward(seed: Tensor? = nil) {
        require(requiresGradient,
                     "backward(): this tensor (op \(operation)) does not require a gradient; set requiresGradient on a leaf it depends on, and make sure it was not computed inside withoutGradients")
        if let seed {
            require(seed.shape == shape, "backward(seed:): seed shape \(seed.shape) does not match tensor shape \(shape)")
            let g = gradientPointer()
            for i in 0..<count { g[i] += seed.storage.pointer[i] }
        } else {
            require(count == 1, "backward(): the tensor has shape \(shape); call it on a scalar, or pass a seed of the same shape")
            gradientPointer()[0] += 1
        }
        for node in topologicalOrder().reversed() {
            guard let rule = node.backwardRule else { continue }
            if node.grad != nil { rule(node) }
            node.backwardRule = nil
            node.parents = []
            node.grad = nil
        }
    }

    /// The nodes that need a gradient, each after all of its parents (an iterative depth-first search,
    /// so a deep graph cannot overflow the stack).
    func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(node: Tensor, nextParent: Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (node, nextParent) = stack.last {
            if nextParent < node.parents.count {
                stack[stack.count - 1].nextParent += 1
                let parent = node.parents[nextParent]
                if parent.requiresGradient, visited.insert(ObjectIdentifier(parent)).inserted {
                    stack.append((parent, 0))
                }
            } else {
                order.append(node)
                stack.removeLast()
            }
        }
        return order
    }
}

extension Tensor {
    /// The ops of the graph that produced this tensor, inputs first: the order in which a forward pass
    /// computed them (`backward()` visits them in reverse). Only nodes that need a gradient are listed.
    public var graphOperations: [String] { topologicalOrder().map(\.operation) }
}
