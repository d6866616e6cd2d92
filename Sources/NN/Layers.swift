// The basic layers: Linear, Embedding, LayerNorm, Dropout, GELU, Conv1d.
// Weight layouts are PyTorch's, so a checkpoint's names and shapes match a PyTorch state_dict.
import Autograd

/// y = x W^T + b. Weight [out, in] (PyTorch's layout; the product reads it transposed in place).
/// Input [..., in] -> output [..., out].
public final class Linear: Layer {
    /// [out, in].
    public let weight: Tensor
    /// [out], or nil.
    public let bias: Tensor?
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// Linear(in, out); the bias starts at 0.
    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, initializer: Initializer = .pytorchDefault,
                using rng: inout RandomGenerator) {
        weight = initializer.make([outputSize, inputSize], fanIn: inputSize, fanOut: outputSize, using: &rng)
        self.bias = bias ? Initializer.zeros.make([outputSize], fanIn: inputSize, fanOut: outputSize, using: &rng) : nil
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// One fused op (Autograd/Ops+Linear.swift): the same numbers as `matmul(x, W^T) + b`, one activation.
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight: weight, bias: bias) }
}

/// A lookup table [count, D]: token id -> row. Input: ids and the shape they come in; output [shape..., D].
public final class Embedding: Module {
    /// [count, D]: row i is token i's vector.
    public let weight: Tensor
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A table of `count` rows of `dimension`.
    public init(count: Int, dimension: Int, initializer: Initializer = .normal(std: 1), using rng: inout RandomGenerator) {
        weight = initializer.make([count, dimension], fanIn: count, fanOut: dimension, using: &rng)
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    /// The rows of `ids` ([shape..., D]; `shape` must hold ids.count ids).
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        require(shape.reduce(1, *) == ids.count, "Embedding: \(ids.count) ids do not fill shape \(shape)")
        return weight.indexSelect(ids, along: 0).reshaped(shape + [weight.shape[1]])
    }
}

/// Layer normalization over the last axis (Ba et al., 2016), optionally with a learned scale and shift.
/// `affine: false` is the parameter-free form data2vec uses to normalize its targets.
public final class LayerNorm: Layer {
    /// The learned scale [D] (1 at first), or nil without affine parameters.
    public let weight: Tensor?
    /// The learned shift [D] (0 at first), or nil.
    public let bias: Tensor?
    /// Added to the variance inside the square root (PyTorch: 1e-5; BEiT: 1e-6).
    public let epsilon: Float
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// LayerNorm over the last axis of size `dimension`.
    public init(_ dimension: Int, epsilon: Float = 1e-5, affine: Bool = true) {
        self.epsilon = epsilon
        weight = affine ? Tensor.ones([dimension], requiresGradient: true) : nil
        bias = affine ? Tensor.zeros([dimension], requiresGradient: true) : nil
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight), ("bias", bias)].compactMap { name, t in t.map { (name, $0) } }
    }

    /// x [..., D] normalized over its last axis.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, epsilon: epsilon) }
}

/// Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p),
/// so evaluation needs no rescaling. The identity in evaluation mode or when p = 0.
public final class Dropout: Layer {
    /// The probability of zeroing an element.
    public let probability: Float
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true
    private var rng: RandomGenerator

    /// Dropout with its own random generator (split from `rng`).
    public init(_ probability: Float, using rng: inout RandomGenerator) {
        require(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.rng = rng.split()
    }

    /// x in training mode with dropout applied (any shape); x itself in evaluation mode.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        return x.dropout(probability, using: &rng)
    }

    /// A seed from this layer's generator, for ops that draw their own masks (fused attention).
    public func nextSeed() -> UInt64 { rng.next() }
}

/// Stochastic depth (timm's `DropPath`, used by BEiT and data2vec vision): in training, the whole input of
/// a sample is zeroed with probability p and the others scaled by 1 / (1 - p). Wrapped around a residual
/// branch, it drops that branch for some samples: `x + dropPath(branch(x))`.
public final class DropPath: Layer {
    /// The probability of dropping a sample's branch.
    public let probability: Float
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true
    private var rng: RandomGenerator

    /// Stochastic depth with its own random generator (split from `rng`).
    public init(_ probability: Float, using rng: inout RandomGenerator) {
        require(probability >= 0 && probability < 1, "DropPath: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.rng = rng.split()
    }

    /// x [B, ...]: each of the B samples kept (scaled) or zeroed; x itself in evaluation mode.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        return x.dropSamples(probability, using: &rng)
    }
}

/// The GELU activation as a layer (`.erf` by default, as BERT and data2vec).
public final class GELU: Layer {
    /// The exact (erf) or tanh form.
    public let form: Tensor.GELUForm
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true
    /// A GELU of the given form.
    public init(_ form: Tensor.GELUForm = .erf) { self.form = form }
    /// GELU elementwise.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.gelu(form) }
}

/// 1-D convolution: input [B, Cin, L] -> [B, Cout, Lout]. Weight [Cout, Cin/groups, K] (PyTorch's layout).
public final class Conv1d: Layer {
    /// [Cout, Cin / groups, K].
    public let weight: Tensor
    /// [Cout], or nil.
    public let bias: Tensor?
    /// Step between windows, zeros added at both ends, channel groups.
    public let stride, padding, groups: Int
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// Conv1d(Cin, Cout, K).
    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, bias: Bool = true, initializer: Initializer = .pytorchDefault, using rng: inout RandomGenerator) {
        require(inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv1d: \(inputChannels) and \(outputChannels) channels are not divisible by \(groups) groups")
        let fanIn = inputChannels / groups * kernelSize
        weight = initializer.make([outputChannels, inputChannels / groups, kernelSize], fanIn: fanIn,
                                  fanOut: outputChannels * kernelSize, using: &rng)
        self.bias = bias ? Tensor.zeros([outputChannels], requiresGradient: true) : nil
        self.stride = stride
        self.padding = padding
        self.groups = groups
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// x [B, Cin, L] -> [B, Cout, Lout].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, groups: groups)
    }
}
