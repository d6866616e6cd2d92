// Weight initializations, each named after its paper or the code it follows.
import Autograd

/// How a weight tensor starts.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    /// N(0, std^2). BERT, wav2vec 2.0 and data2vec's speech/text models use std 0.02 (`init_bert_params`).
    case normal(std: Float)
    /// N(0, std^2) cut to [low, high] in absolute units, as timm's and PyTorch's `trunc_normal_(std, a, b)`
    /// (defaults a = -2, b = 2, so with std 0.02 nothing is cut). data2vec vision's own wrapper
    /// (`modeling_cyclical.py` `trunc_normal_`) passes a = -std, b = std: N(0, 0.02^2) cut at +-0.02, whose
    /// effective standard deviation is about 0.54 std = 0.011. Write that one as `.beitTruncatedNormal`.
    case truncatedNormal(std: Float, low: Float = -2, high: Float = 2)
    /// U(-a, a) with a = sqrt(6 / (fanIn + fanOut)) (Glorot and Bengio, 2010).
    case xavierUniform
    /// N(0, 2 / fanIn) (He et al., 2015), for layers followed by ReLU/GELU.
    case kaimingNormal
    /// PyTorch's default for nn.Linear / nn.Conv1d: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case pytorchDefault

    /// data2vec vision's initialization of every Linear and Conv2d weight, the CLS and mask tokens:
    /// N(0, 0.02^2) truncated at one standard deviation (`modeling_cyclical.py`: `trunc_normal_(tensor,
    /// std=0.02)` calls timm's with `a=-std, b=std`).
    public static let beitTruncatedNormal = Initializer.truncatedNormal(std: 0.02, low: -0.02, high: 0.02)

    /// data2vec vision's initialization with the standard deviation scaled to a width of `dimension`: std
    /// 0.02 sqrt(768 / D), cut at one standard deviation. A Linear layer of fan-in D then maps unit inputs to
    /// outputs of the same scale as in ViT-B (D = 768), where 0.02 is calibrated; at D = 64 the unscaled
    /// 0.02 makes every layer shrink its input about 3.5-fold more.
    public static func beitTruncatedNormal(scaledTo dimension: Int) -> Initializer {
        let std = 0.02 * (768 / Float(dimension)).squareRoot()
        return .truncatedNormal(std: std, low: -std, high: std)
    }

    /// A new tensor of `shape` that requires a gradient. `fanIn`/`fanOut` count the inputs and outputs
    /// of one unit (for Linear [out, in]: in and out; for Conv1d [out, in/groups, K]: in/groups*K and out*K).
    public func make(_ shape: [Int], fanIn: Int, fanOut: Int, using rng: inout RandomGenerator) -> Tensor {
        let tensor: Tensor
        switch self {
        case .zeros: tensor = .zeros(shape)
        case .ones: tensor = .ones(shape)
        case .normal(let std): tensor = .normal(shape, std: std, using: &rng)
        case .truncatedNormal(let std, let low, let high): tensor = .truncatedNormal(shape, std: std, low: low, high: high, using: &rng)
        case .xavierUniform:
            let a = (6 / Float(fanIn + fanOut)).squareRoot()
            tensor = .uniform(shape, low: -a, high: a, using: &rng)
        case .kaimingNormal: tensor = .normal(shape, std: (2 / Float(fanIn)).squareRoot(), using: &rng)
        case .pytorchDefault:
            let a = 1 / Float(fanIn).squareRoot()
            tensor = .uniform(shape, low: -a, high: a, using: &rng)
        }
        tensor.requiresGradient = true
        return tensor
    }
}
