// A front end for sequences of feature vectors [B, T, F] (what speech becomes after its CNN, or any
// sensor signal): LayerNorm + Linear to D, a learned mask embedding, learned positions, span masking.
// It is the smallest complete `Data2VecFrontEnd`, used by chapter 04 and the tests.
import Autograd
import NN

public final class FeatureSequenceFrontEnd: Data2VecFrontEnd {
    public typealias Batch = Tensor  // [B, T, F]

    public let inputNorm: LayerNorm
    public let projection: Linear
    /// The learned vector that replaces masked features (wav2vec 2.0 / data2vec `mask_emb`, uniform [0, 1) init).
    public let maskEmbedding: Tensor
    /// Learned absolute positions [maxLength, D], added after masking (shared with the teacher).
    public let positions: Embedding
    public var masking: SpanMasking
    public var isTraining = true

    public init(inputDimension: Int, dimension: Int, maxLength: Int, masking: SpanMasking, using rng: inout RandomGenerator) {
        inputNorm = LayerNorm(inputDimension)
        projection = Linear(inputDimension, dimension, using: &rng)
        maskEmbedding = Tensor.uniform([dimension], using: &rng, requiresGradient: true)
        positions = Embedding(count: maxLength, dimension: dimension, initializer: .normal(std: 0.02), using: &rng)
        self.masking = masking
    }

    public var ownParameters: [(name: String, tensor: Tensor)] { [("maskEmbedding", maskEmbedding)] }
    public var submodules: [(name: String, module: any Module)] {
        [("inputNorm", inputNorm), ("projection", projection), ("positions", positions)]
    }

    public func features(_ batch: Tensor) -> (features: Tensor, validLengths: [Int]?) {
        precondition(batch.rank == 3, "FeatureSequenceFrontEnd: input must be [B, T, F], got \(batch.shape)")
        return (projection(inputNorm(batch)), nil)
    }

    public func mask(for batch: Tensor, length: Int, using rng: inout RandomGenerator) -> Mask {
        masking(batchSize: batch.shape[0], length: length, using: &rng)
    }

    public func studentInput(_ features: Tensor, mask: Mask, batch: Tensor) -> Tensor {
        addPositions(Tensor.where(mask.tensor, maskEmbedding, features))
    }

    public func teacherInput(_ features: Tensor, batch: Tensor) -> Tensor { addPositions(features) }

    func addPositions(_ x: Tensor) -> Tensor {
        let length = x.shape[1]
        return x + positions(Array(0..<length), shape: [length])
    }
}
