// The image classifier built on the pretrained backbone for fine-tuning (BEiT `modeling_finetune.py` with `use_mean_pooling`: the final norm is the identity, the last block's
// patch vectors are averaged, then `fc_norm` (a LayerNorm) and a Linear head).
import Autograd
import NN

/// BEiT's image classifier: a backbone, mean pooling, `fc_norm` (LayerNorm) and a Linear head.
/// images [B, 28, 28] -> logits [B, classes].
public final class ImageClassifier: Module {
    /// The encoder (pretrained or not).
    public let backbone: VisionBackbone
    /// BEiT's `fc_norm`.
    public let norm: LayerNorm
    /// Linear(D, classes).
    public let head: Linear
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A classifier with a fresh head.
    public init(backbone: VisionBackbone, classCount: Int, using rng: inout RandomGenerator) {
        let d = backbone.encoder.configuration.dimension
        self.backbone = backbone
        norm = LayerNorm(d, epsilon: backbone.encoder.configuration.layerNormEpsilon)
        head = Linear(d, classCount, initializer: .truncatedNormal(std: 0.02), using: &rng)
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("backbone", backbone), ("norm", norm), ("head", head)] }

    /// images [B, 28, 28] -> logits [B, classes].
    public func callAsFunction(_ images: Tensor) -> Tensor { head(norm(backbone.pooledFeatures(images))) }
}
