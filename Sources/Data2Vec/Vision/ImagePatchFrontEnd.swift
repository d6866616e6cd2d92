// The image front end of data2vec vision (paper section 4.1; data2vec vision `beit/modeling_cyclical.py`
// `forward_features`), scaled to MNIST: 28 x 28 images cut into 4 x 4 patches (a 7 x 7 grid of 49 tokens),
// each linearly embedded to D (BEiT's PatchEmbed is the same as a stride-4 convolution); masked patch
// embeddings are replaced by a learned mask vector (`x * (1 - w) + mask_token * w`), then fixed 2-D
// sine-cosine positions are added, so a masked patch still says where it is. Masking: BEiT block masking
// on the 7 x 7 grid (`masking_generator.py`).
import Autograd
import Foundation
import NN

/// The sizes and the masking of the image front end.
public struct ImagePatchConfiguration: Sendable, Equatable {
    /// Images are `imageSize` x `imageSize` pixels, cut into `patchSize` x `patchSize` patches.
    public var imageSize = 28
    /// Pixels per patch side.
    public var patchSize = 4
    /// D, the encoder's width.
    public var dimension: Int
    /// BEiT `num_mask_patches`: patches to mask per image (data2vec: 120 of 196, 61%; here 29 of 49, 59%).
    public var maskedPatches = 29
    /// BEiT `min_mask_patches_per_block` (data2vec: 16 of a 14 x 14 grid; here 4 of a 7 x 7 grid).
    public var minimumBlock = 4
    /// How the patch embedding and the mask vector start (data2vec vision: N(0, 0.02^2) cut at +-0.02).
    public var initializer: Initializer = .beitTruncatedNormal
    /// A learned CLS token before the patches (BEiT's and data2vec vision's `cls_token`, which Hugging Face's
    /// Data2VecVisionModel always has): it gets no position, is never masked, and pooling skips it. Off by default:
    /// the chapters pool patches and need none.
    public var classToken = false

    /// The defaults of chapter 05 for a width of `dimension`.
    public init(dimension: Int) { self.dimension = dimension }

    /// Patches per side: imageSize / patchSize.
    public var grid: Int { imageSize / patchSize }
}

/// Images [B, 28, 28] -> patch sequences [B, 49, D] with positions; the student's masked view and the teacher's whole view.
public final class ImagePatchFrontEnd: ConfiguredFrontEnd {
    /// What one batch of this modality is.
    public typealias Batch = Tensor  // images [B, H, W]

    /// The sizes, masking and initialization.
    public let configuration: ImagePatchConfiguration
    /// Linear(p * p, D): one embedding per patch.
    public let embedding: Linear
    /// BEiT's `mask_token`: replaces the embedding of every masked patch.
    public let maskEmbedding: Tensor
    /// The CLS token [D], or nil (`ImagePatchConfiguration.classToken`).
    public let classEmbedding: Tensor?
    /// Fixed, not learned: [grid * grid, D].
    public let positions: Tensor
    /// BEiT block masking of the patch grid.
    public let masking: BlockMasking
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// A freshly initialized front end.
    public init(_ configuration: ImagePatchConfiguration, using rng: inout RandomGenerator) {
        let c = configuration
        require(c.imageSize % c.patchSize == 0, "ImagePatchFrontEnd: image size \(c.imageSize) is not a multiple of the patch size \(c.patchSize)")
        self.configuration = c
        embedding = Linear(c.patchSize * c.patchSize, c.dimension, initializer: c.initializer, using: &rng)
        maskEmbedding = c.initializer.make([c.dimension], fanIn: c.dimension, fanOut: c.dimension, using: &rng)
        positions = sinusoidalPositions2D(grid: c.grid, dimension: c.dimension)
        classEmbedding = c.classToken ? c.initializer.make([c.dimension], fanIn: c.dimension, fanOut: c.dimension, using: &rng) : nil
        masking = BlockMasking(rows: c.grid, columns: c.grid, targetCount: c.maskedPatches, minimumBlock: c.minimumBlock)
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] {
        [("maskEmbedding", maskEmbedding)] + (classEmbedding.map { [("classEmbedding", $0)] } ?? [])
    }

    /// 1 with a CLS token, else 0.
    public var leadingTokens: Int { classEmbedding == nil ? 0 : 1 }

    /// [row, column] of each patch on the grid, row by row (nil for the CLS token): a teacher restricted to a
    /// radius r attends to the (2r + 1) x (2r + 1) square of patches around each one.
    public func positionCoordinates(count: Int) -> [[Int]?] {
        let grid = configuration.grid
        return Array(repeating: nil, count: leadingTokens) + (0..<(count - leadingTokens)).map { [$0 / grid, $0 % grid] }
    }

    /// [B, N, D] patches with the CLS token before them when there is one: [B, 1 + N, D].
    func withClassToken(_ x: Tensor) -> Tensor {
        guard let classEmbedding else { return x }
        let (b, d) = (x.shape[0], x.shape[2])
        return Tensor.concatenate([classEmbedding.reshaped([1, 1, d]).expanded(to: [b, 1, d]), x], along: 1)
    }
    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] { [("embedding", embedding)] }

    /// Patch embeddings [B, 49, D], before positions.
    public func patchEmbeddings(_ images: Tensor) -> Tensor {
        embedding(patchify(images, patchSize: configuration.patchSize))
    }

    /// Block masks for the batch; the student sees the mask vector in masked patches, the teacher every patch.
    public func inputs(for images: Tensor, using rng: inout RandomGenerator) -> Data2VecInputs {
        let features = patchEmbeddings(images)
        let mask = masking(batchSize: images.shape[0], using: &rng)
        let student = withClassToken(Tensor.where(mask.tensor, maskEmbedding, features) + positions)
        let teacher = Tensor.withoutGradients { withClassToken(features.detached() + positions).detached() }
        guard classEmbedding != nil else { return Data2VecInputs(student: student, teacher: teacher, mask: mask) }
        return Data2VecInputs(student: student, teacher: teacher, mask: Mask(mask.isMasked.map { [false] + $0 }))
    }

    /// The unmasked encoder input for downstream use: patch embeddings plus positions, [B, 49, D].
    public func encoderInput(_ images: Tensor) -> Tensor { withClassToken(patchEmbeddings(images) + positions) }

    /// The whole batch as the encoder's input [B, 49, D]; no image is padded.
    public func unmaskedInput(_ images: Tensor) -> (input: Tensor, validLengths: [Int]?) { (encoderInput(images), nil) }
}

/// Fixed 2-D sine-cosine position embeddings (as MAE and the data2vec 2.0 image model use): half of the
/// D channels encode the row, half the column, each with the 1-D transformer encoding
/// sin(pos / 10000^(2i/d)), cos(pos / 10000^(2i/d)). Returns [grid * grid, D].
public func sinusoidalPositions2D(grid: Int, dimension: Int) -> Tensor {
    require(dimension % 4 == 0, "sinusoidalPositions2D: dimension \(dimension) must be divisible by 4")
    let quarter = dimension / 4
    var values: [Float] = []
    for row in 0..<grid {
        for column in 0..<grid {
            for position in [row, column] {
                for i in 0..<quarter {
                    let frequency = 1 / pow(10_000, Double(i) / Double(quarter))
                    values.append(Float(sin(Double(position) * frequency)))
                }
                for i in 0..<quarter {
                    let frequency = 1 / pow(10_000, Double(i) / Double(quarter))
                    values.append(Float(cos(Double(position) * frequency)))
                }
            }
        }
    }
    return Tensor(shape: [grid * grid, dimension], values)
}

/// Splits [B, H, W] images into non-overlapping p x p patches: [B, (H/p)(W/p), p * p], patches in row-major
/// grid order, pixels within a patch row-major (the order of a stride-p convolution's receptive fields).
public func patchify(_ images: Tensor, patchSize p: Int) -> Tensor {
    require(images.rank == 3 && images.shape[1] % p == 0 && images.shape[2] % p == 0,
                 "patchify: images \(images.shape) are not [B, H, W] with H and W divisible by \(p)")
    let (b, h, w) = (images.shape[0], images.shape[1], images.shape[2])
    // [B, H/p, p, W/p, p] -> [B, H/p, W/p, p, p]
    return images.reshaped([b, h / p, p, w / p, p]).permuted([0, 1, 3, 2, 4]).reshaped([b, (h / p) * (w / p), p * p])
}
