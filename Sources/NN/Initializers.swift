// Weight initializations, each named after its paper or the code it follows.
import Autograd

public enum Initializer: Sendable {
    case zeros
    case ones
    /// N(0, std^2). BERT, wav2vec 2.0 and data2vec's speech/text models use std 0.02 (`init_bert_params`).
    case normal(std: Float)
    /// N(0, std^2) cut to [-2, 2] absolute (timm's `trunc_normal_`); ViT/BEiT use std 0.02.
    case truncatedNormal(std: Float)
    /// U(-a, a) with a = sqrt(6 / (fanIn + fanOut)) (Glorot and Bengio, 2010).
    case xavierUniform
    /// N(0, 2 / fanIn) (He et al., 2015), for layers followed by ReLU/GELU.
    case kaimingNormal
    /// PyTorch's default for nn.Linear / nn.Conv1d: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    case pytorchDefault

    /// A new tensor of `shape` that requires a gradient. `fanIn`/`fanOut` count the inputs and outputs
    /// of one unit (for Linear [out, in]: in and out; for Conv1d [out, in/groups, K]: in/groups*K and out*K).
    public func make(_ shape: [Int], fanIn: Int, fanOut: Int, using rng: inout RandomGenerator) -> Tensor {
        let tensor: Tensor
        switch self {
        case .zeros: tensor = .zeros(shape)
        case .ones: tensor = .ones(shape)
        case .normal(let std): tensor = .normal(shape, std: std, using: &rng)
        case .truncatedNormal(let std): tensor = .truncatedNormal(shape, std: std, using: &rng)
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
