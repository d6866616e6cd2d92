// A scalar autograd engine in a few dozen lines: the idea of micrograd (Karpathy, 2020) in Swift.
// Chapter 02 starts here before moving to tensors; `Tensor` does exactly the same, one array at a time.
//
// Each Value remembers the Values it was computed from and how to push its gradient back to them
// (the local derivative times the incoming gradient: the chain rule). `backward()` visits the graph in
// reverse topological order so that a node's gradient is complete before it is pushed further.
import Foundation

/// A scalar that remembers how it was computed: the whole of reverse-mode autodiff on one number
/// (chapter 02; the idea of Karpathy's micrograd).
public final class Value {
    /// The value.
    public var data: Double
    /// d(output) / d(this value), filled by `backward()`.
    public var grad = 0.0
    /// The op that made it ("+", "*", "tanh", ...; empty for inputs).
    public let operation: String
    let children: [Value]
    /// Adds this node's gradient, times the local derivatives, into its children's gradients.
    /// It receives the node as an argument, so no closure holds its own node (no reference cycle).
    var pushGradient: (Value) -> Void = { _ in }

    /// A value computed by `operation` from `children` (an input when both are empty).
    public init(_ data: Double, operation: String = "", children: [Value] = []) {
        self.data = data
        self.operation = operation
        self.children = children
    }

    /// a + b; d/da = d/db = 1.
    public static func + (a: Value, b: Value) -> Value {
        let out = Value(a.data + b.data, operation: "+", children: [a, b])
        out.pushGradient = { out in a.grad += out.grad; b.grad += out.grad }  // d(a+b)/da = 1
        return out
    }

    /// a b; d/da = b, d/db = a.
    public static func * (a: Value, b: Value) -> Value {
        let out = Value(a.data * b.data, operation: "*", children: [a, b])
        out.pushGradient = { out in a.grad += b.data * out.grad; b.grad += a.data * out.grad }  // d(ab)/da = b
        return out
    }

    /// a^p for a constant p: d/da = p a^(p-1).
    public func power(_ p: Double) -> Value {
        let out = Value(Foundation.pow(data, p), operation: "^\(p)", children: [self])
        out.pushGradient = { out in self.grad += p * Foundation.pow(self.data, p - 1) * out.grad }
        return out
    }

    /// tanh(x); d/dx = 1 - tanh(x)^2.
    public func tanh() -> Value {
        let t = Foundation.tanh(data)
        let out = Value(t, operation: "tanh", children: [self])
        out.pushGradient = { out in self.grad += (1 - t * t) * out.grad }
        return out
    }

    /// max(0, x); d/dx = 1 for x > 0, else 0.
    public func relu() -> Value {
        let out = Value(max(0, data), operation: "relu", children: [self])
        out.pushGradient = { out in self.grad += (out.data > 0 ? 1 : 0) * out.grad }
        return out
    }

    /// e^x; d/dx = e^x.
    public func exp() -> Value {
        let out = Value(Foundation.exp(data), operation: "exp", children: [self])
        out.pushGradient = { out in self.grad += out.data * out.grad }  // d e^a / da = e^a
        return out
    }

    /// -a.
    public static prefix func - (a: Value) -> Value { a * Value(-1) }
    /// a - b.
    public static func - (a: Value, b: Value) -> Value { a + (-b) }
    /// a / b, as a b^-1.
    public static func / (a: Value, b: Value) -> Value { a * b.power(-1) }
    /// a + a constant.
    public static func + (a: Value, b: Double) -> Value { a + Value(b) }
    /// a times a constant.
    public static func * (a: Value, b: Double) -> Value { a * Value(b) }
    /// A constant times b.
    public static func * (a: Double, b: Value) -> Value { Value(a) * b }

    /// Sets d self / d self = 1 and pushes gradients to every Value this one depends on.
    public func backward() {
        var order: [Value] = []
        var visited = Set<ObjectIdentifier>()
        func visit(_ v: Value) {
            guard visited.insert(ObjectIdentifier(v)).inserted else { return }
            for child in v.children { visit(child) }
            order.append(v)
        }
        visit(self)
        grad = 1
        for v in order.reversed() { v.pushGradient(v) }
    }
}

extension Value: CustomStringConvertible {
    /// "Value(data: ..., grad: ...)".
    public var description: String { "Value(data: \(data), grad: \(grad))" }
}
