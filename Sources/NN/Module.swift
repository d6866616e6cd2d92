// Modules: objects that own parameters and compute with them (PyTorch's nn.Module, in Swift).
//
// Parameters are listed explicitly, by name, with no reflection: `ownParameters` names a module's own
// tensors and `submodules` its children; `namedParameters` walks the tree and prefixes names with the
// path ("blocks.0.attention.qkv.weight"), the names checkpoints and the EMA teacher use. A test
// (ModuleTests) uses Mirror to fail when a module stores a tensor it forgot to list.
import Autograd

/// Something that owns parameters and computes with them (PyTorch's `nn.Module`), with explicit, named
/// parameters and children.
public protocol Module: AnyObject {
    /// This module's own parameters (not its children's), by name.
    var ownParameters: [(name: String, tensor: Tensor)] { get }
    /// The child modules, by name.
    var submodules: [(name: String, module: any Module)] { get }
    /// Training mode (dropout active) or evaluation mode. Set it for a whole tree with `train()`/`eval()`.
    var isTraining: Bool { get set }
}

extension Module {
    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [] }
    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [] }

    /// Every parameter of the tree with its dotted path. A tensor reachable twice (tied weights) is
    /// listed once, under the first name met.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(name: String, tensor: Tensor)] = []
        func visit(_ module: any Module, prefix: String) {
            for (name, tensor) in module.ownParameters where seen.insert(ObjectIdentifier(tensor)).inserted {
                result.append((prefix + name, tensor))
            }
            for (name, child) in module.submodules { visit(child, prefix: prefix + name + ".") }
        }
        visit(self, prefix: "")
        return result
    }

    /// Every parameter of the tree.
    public var parameters: [Tensor] { namedParameters.map(\.tensor) }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Sets training mode on this module and every descendant.
    public func train(_ training: Bool = true) {
        isTraining = training
        for (_, child) in submodules { child.train(training) }
    }

    /// Evaluation mode: no dropout.
    public func eval() { train(false) }

    /// Forgets every parameter's gradient.
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Copies the values of `other`'s parameters into this module's (same names and shapes).
    public func copyParameters(from other: any Module) {
        let source = Dictionary(other.namedParameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        for (name, tensor) in namedParameters {
            guard let from = source[name], from.shape == tensor.shape else {
                fatalError("copyParameters: \(name) \(tensor.shape) has no counterpart of the same shape")
            }
            tensor.storage.pointer.update(from: from.storage.pointer, count: tensor.count)
        }
    }
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}
