// The image front end of data2vec vision (spec B.2), scaled to MNIST: 28 x 28 images cut into 4 x 4
// patches (a 7 x 7 grid of 49 tokens), each linearly embedded to D (BEiT's PatchEmbed is the same as a
// stride-4 convolution); masked patch embeddings are replaced by a learned mask vector (trunc-normal
// std 0.02, as BEiT's `mask_token`), then fixed 2-D sine-cosine positions are added, so a masked patch
// still says where it is. Masking: BEiT block masking on the 7 x 7 grid.
import Autograd
import Foundation
import NN

public final class ImagePatchFrontEnd: Data2VecFrontEnd {
    public typealias Batch = Tensor  // images [B, 28, 28]

    public let patchSize: Int
    public let grid: Int
    public let embedding: Linear
    public let maskEmbedding: Tensor
    /// Fixed, not learned: [grid * grid, D].
    public let positions: Tensor
    public var masking: BlockMasking
    public var isTraining = true

    public init(imageSize: Int = 28, patchSize: Int = 4, dimension: Int, maskRatio: Double = 0.6, minimumBlock: Int = 4,
                using rng: inout RandomGenerator) {
        self.patchSize = patchSize
        grid = imageSize / patchSize
        embedding = Linear(patchSize * patchSize, dimension, initializer: .truncatedNormal(std: 0.02), using: &rng)
        maskEmbedding = Tensor.truncatedNormal([dimension], std: 0.02, using: &rng, requiresGradient: true)
        positions = sinusoidalPositions2D(grid: grid, dimension: dimension)
        masking = BlockMasking(rows: grid, columns: grid, targetCount: Int((maskRatio * Double(grid * grid)).rounded()),
                               minimumBlock: minimumBlock)
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("maskEmbedding", maskEmbedding)] }
    public var submodules: [(name: String, module: any Module)] { [("embedding", embedding)] }

    /// Patch embeddings [B, 49, D].
    public func features(_ images: Tensor) -> (features: Tensor, validLengths: [Int]?) {
        (embedding(patchify(images, patchSize: patchSize)), nil)
    }

    public func mask(for images: Tensor, length: Int, using rng: inout RandomGenerator) -> Mask {
        masking(batchSize: images.shape[0], using: &rng)
    }

    public func studentInput(_ features: Tensor, mask: Mask, batch: Tensor) -> Tensor {
        Tensor.where(mask.tensor, maskEmbedding, features) + positions
    }

    public func teacherInput(_ features: Tensor, batch: Tensor) -> Tensor { features + positions }

    /// Unmasked input for downstream use: patch embeddings plus positions.
    public func encoderInput(_ images: Tensor) -> Tensor { features(images).features + positions }
}

/// Fixed 2-D sine-cosine position embeddings (as MAE and the data2vec 2.0 image model use): half of the
/// D channels encode the row, half the column, each with the 1-D transformer encoding
/// sin(pos / 10000^(2i/d)), cos(pos / 10000^(2i/d)). Returns [grid * grid, D].
public func sinusoidalPositions2D(grid: Int, dimension: Int) -> Tensor {
    precondition(dimension % 4 == 0, "sinusoidalPositions2D: dimension \(dimension) must be divisible by 4")
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
    precondition(images.rank == 3 && images.shape[1] % p == 0 && images.shape[2] % p == 0,
                 "patchify: images \(images.shape) are not [B, H, W] with H and W divisible by \(p)")
    let (b, h, w) = (images.shape[0], images.shape[1], images.shape[2])
    // [B, H/p, p, W/p, p] -> [B, H/p, W/p, p, p]
    return images.reshaped([b, h / p, p, w / p, p]).permuted([0, 1, 3, 2, 4]).reshaped([b, (h / p) * (w / p), p * p])
}
