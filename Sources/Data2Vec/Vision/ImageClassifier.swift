// What data2vec pretrains for images, and the classifier built on it for probes and fine-tuning
// (BEiT `modeling_finetune.py` with `use_mean_pooling`: the final norm is the identity, the last block's
// patch vectors are averaged, then `fc_norm` (a LayerNorm) and a Linear head).
import Autograd
import NN

/// The pretrained part: the patch front end and the encoder. Checkpoints hold exactly this.
public final class VisionBackbone: Module {
    /// Patches, mask vector, positions.
    public let frontEnd: ImagePatchFrontEnd
    /// The Transformer.
    public let encoder: TransformerEncoder
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A backbone of these parts.
    public init(frontEnd: ImagePatchFrontEnd, encoder: TransformerEncoder) {
        self.frontEnd = frontEnd
        self.encoder = encoder
    }

    /// A freshly initialized backbone of the given sizes.
    public convenience init(frontEnd: ImagePatchConfiguration, encoder: TransformerConfiguration, using rng: inout RandomGenerator) {
        self.init(frontEnd: ImagePatchFrontEnd(frontEnd, using: &rng), encoder: TransformerEncoder(encoder, using: &rng))
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("frontEnd", frontEnd), ("encoder", encoder)] }

    /// images [B, 28, 28] -> the encoder's output for every patch, [B, 49, D], and every block's outputs.
    public func encode(_ images: Tensor, recordBlocks: Bool = false) -> EncoderOutput {
        encoder(frontEnd.encoderInput(images), recordBlocks: recordBlocks)
    }

    /// images [B, 28, 28] -> [B, D]: the last block's patch vectors averaged (the raw residual stream, before
    /// the encoder's final LayerNorm, as BEiT pools with `use_mean_pooling`).
    public func pooledFeatures(_ images: Tensor) -> Tensor {
        encode(images).lastBlockOutput.mean(alongAxes: [1])
    }
}

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
