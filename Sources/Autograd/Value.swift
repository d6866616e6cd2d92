// A scalar autograd engine in a few dozen lines: the idea of micrograd (Karpathy, 2020) in Swift.
// Chapter 02 starts here before moving to tensors; `Tensor` does exactly the same, one array at a time.
//
// Each Value remembers the Values it was computed from and how to push its gradient back to them
// (the local derivative times the incoming gradient: the chain rule). `backward()` visits the graph in
// reverse topological order so that a node's gradient is complete before it is pushed further.
import Foundation

public final class Value {
    public var data: Double
    public var grad = 0.0
    public let operation: String
    let children: [Value]
    /// Adds this node's gradient, times the local derivatives, into its children's gradients.
    /// It receives the node as an argument, so no closure holds its own node (no reference cycle).
    var pushGradient: (Value) -> Void = { _ in }

    public init(_ data: Double, operation: String = "", children: [Value] = []) {
        self.data = data
        self.operation = operation
        self.children = children
    }

    public static func + (a: Value, b: Value) -> Value {
        let out = Value(a.data + b.data, operation: "+", children: [a, b])
        out.pushGradient = { out in a.grad += out.grad; b.grad += out.grad }  // d(a+b)/da = 1
        return out
    }

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

    public func tanh() -> Value {
        let t = Foundation.tanh(data)
        let out = Value(t, operation: "tanh", children: [self])
        out.pushGradient = { out in self.grad += (1 - t * t) * out.grad }
        return out
    }

    public func relu() -> Value {
        let out = Value(max(0, data), operation: "relu", children: [self])
        out.pushGradient = { out in self.grad += (out.data > 0 ? 1 : 0) * out.grad }
        return out
    }

    public func exp() -> Value {
        let out = Value(Foundation.exp(data), operation: "exp", children: [self])
        out.pushGradient = { out in self.grad += out.data * out.grad }  // d e^a / da = e^a
        return out
    }

    public static prefix func - (a: Value) -> Value { a * Value(-1) }
    public static func - (a: Value, b: Value) -> Value { a + (-b) }
    public static func / (a: Value, b: Value) -> Value { a * b.power(-1) }
    public static func + (a: Value, b: Double) -> Value { a + Value(b) }
    public static func * (a: Value, b: Double) -> Value { a * Value(b) }
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
    public var description: String { "Value(data: \(data), grad: \(grad))" }
}
