// The basic layers: Linear, Embedding, LayerNorm, Dropout, GELU, Conv1d.
// Weight layouts are PyTorch's, so a checkpoint's names and shapes match a PyTorch state_dict.
import Autograd

/// y = x W^T + b. Weight [out, in] (PyTorch's layout; the product reads it transposed in place).
/// Input [..., in] -> output [..., out].
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public var isTraining = true

    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true, initializer: Initializer = .pytorchDefault,
                using rng: inout RandomGenerator) {
        weight = initializer.make([outputSize, inputSize], fanIn: inputSize, fanOut: outputSize, using: &rng)
        self.bias = bias ? Initializer.zeros.make([outputSize], fanIn: inputSize, fanOut: outputSize, using: &rng) : nil
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    /// One fused op (Autograd/Ops+Linear.swift): the same numbers as `matmul(x, W^T) + b`, one activation.
    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.linear(x, weight: weight, bias: bias) }
}

/// A lookup table [count, D]: token id -> row. Input: ids and the shape they come in; output [shape..., D].
public final class Embedding: Module {
    public let weight: Tensor
    public var isTraining = true

    public init(count: Int, dimension: Int, initializer: Initializer = .normal(std: 1), using rng: inout RandomGenerator) {
        weight = initializer.make([count, dimension], fanIn: count, fanOut: dimension, using: &rng)
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        require(shape.reduce(1, *) == ids.count, "Embedding: \(ids.count) ids do not fill shape \(shape)")
        return weight.indexSelect(ids, along: 0).reshaped(shape + [weight.shape[1]])
    }
}

/// Layer normalization over the last axis (Ba et al., 2016), optionally with a learned scale and shift.
/// `affine: false` is the parameter-free form data2vec uses to normalize its targets.
public final class LayerNorm: Layer {
    public let weight: Tensor?
    public let bias: Tensor?
    public let epsilon: Float
    public var isTraining = true

    public init(_ dimension: Int, epsilon: Float = 1e-5, affine: Bool = true) {
        self.epsilon = epsilon
        weight = affine ? Tensor.ones([dimension], requiresGradient: true) : nil
        bias = affine ? Tensor.zeros([dimension], requiresGradient: true) : nil
    }

    public var ownParameters: [(name: String, tensor: Tensor)] {
        [("weight", weight), ("bias", bias)].compactMap { name, t in t.map { (name, $0) } }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, epsilon: epsilon) }
}

/// Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1-p),
/// so evaluation needs no rescaling. The identity in evaluation mode or when p = 0.
public final class Dropout: Layer {
    public let probability: Float
    public var isTraining = true
    private var rng: RandomGenerator

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
    public let probability: Float
    public var isTraining = true
    private var rng: RandomGenerator

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
    public let form: Tensor.GELUForm
    public var isTraining = true
    public init(_ form: Tensor.GELUForm = .erf) { self.form = form }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.gelu(form) }
}

/// 1-D convolution: input [B, Cin, L] -> [B, Cout, Lout]. Weight [Cout, Cin/groups, K] (PyTorch's layout).
public final class Conv1d: Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride, padding, groups: Int
    public var isTraining = true

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

    public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, groups: groups)
    }
}
