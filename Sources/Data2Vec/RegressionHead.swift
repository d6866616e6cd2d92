// The student's regression head (fairseq `final_proj` in data2vec_audio.py, the `regression_head` of
// data2vec_text.py, data2vec vision's `lm_head`): it maps the student's final output at a masked position to
// a prediction of the target. Speech and vision use one Linear(D, D); text uses D -> 2D -> D with GELU
// (`head_layers: 2`).
import Autograd
import NN

/// The student's regression head: [N, D] -> [N, D].
public final class RegressionHead: Layer {
    /// One Linear, or two with a GELU between.
    public let layers: [Linear]
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameter depth: 1 (Linear) or 2 (Linear(D, 2D), GELU, Linear(2D, D)), fairseq's `head_layers`.
    public init(dimension: Int, depth: Int = 1, initializer: Initializer = .pytorchDefault, using rng: inout RandomGenerator) {
        require(depth == 1 || depth == 2, "RegressionHead: depth must be 1 or 2, got \(depth)")
        layers = depth == 1
            ? [Linear(dimension, dimension, initializer: initializer, using: &rng)]
            : [Linear(dimension, 2 * dimension, initializer: initializer, using: &rng),
               Linear(2 * dimension, dimension, initializer: initializer, using: &rng)]
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        layers.enumerated().map { ("layers.\($0.offset)", $0.element as any Module) }
    }

    /// [N, D] -> [N, D].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.count == 1 ? layers[0](x) : layers[1](layers[0](x).gelu())
    }
}
