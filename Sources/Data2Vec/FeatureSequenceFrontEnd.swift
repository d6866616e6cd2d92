// A front end for sequences of feature vectors [B, T, F] (what speech becomes after its CNN, or any sensor
// signal): LayerNorm + Linear to D (wav2vec 2.0's `layer_norm` + `post_extract_proj`), a learned mask
// embedding, learned positions, span masking. It is the smallest complete `Data2VecFrontEnd`, used by
// chapter 04 and the tests. Pair it with a post-LN encoder whose `inputLayerNorm` is on, as wav2vec 2.0 does.
import Autograd
import NN

/// Features [B, T, F] -> the student's and the teacher's encoder inputs [B, T, D], with span masking.
public final class FeatureSequenceFrontEnd: Data2VecFrontEnd {
    /// What one batch of this modality is.
    public typealias Batch = Tensor  // [B, T, F]

    /// LayerNorm over the F input features.
    public let inputNorm: LayerNorm
    /// Linear(F, D).
    public let projection: Linear
    /// The learned vector that replaces masked features (wav2vec 2.0 / data2vec `mask_emb`, uniform [0, 1) init).
    public let maskEmbedding: Tensor
    /// Learned absolute positions [maxLength, D], added after masking (shared with the teacher).
    public let positions: Embedding
    /// Span masking over the T steps.
    public var masking: SpanMasking
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - inputDimension: F; `dimension`: D; `maxLength`: the longest sequence the positions cover.
    public init(inputDimension: Int, dimension: Int, maxLength: Int, masking: SpanMasking, using rng: inout RandomGenerator) {
        inputNorm = LayerNorm(inputDimension)
        projection = Linear(inputDimension, dimension, using: &rng)
        maskEmbedding = Tensor.uniform([dimension], using: &rng, requiresGradient: true)
        positions = Embedding(count: maxLength, dimension: dimension, initializer: .normal(std: 0.02), using: &rng)
        self.masking = masking
    }

    /// This module's own parameters, by name (its children's are listed by `submodules`).
    public var ownParameters: [(name: String, tensor: Tensor)] { [("maskEmbedding", maskEmbedding)] }
    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        [("inputNorm", inputNorm), ("projection", projection), ("positions", positions)]
    }

    /// Span-masks the T steps; the student's view has the mask embedding at masked steps, the teacher's does not.
    public func inputs(for batch: Tensor, using rng: inout RandomGenerator) -> Data2VecInputs {
        require(batch.rank == 3, "FeatureSequenceFrontEnd: input must be [B, T, F], got \(batch.shape)")
        let features = projection(inputNorm(batch))
        let mask = masking(batchSize: batch.shape[0], length: batch.shape[1], using: &rng)
        let student = addPositions(Tensor.where(mask.tensor, maskEmbedding, features))
        let teacher = Tensor.withoutGradients { addPositions(features.detached()) }
        return Data2VecInputs(student: student, teacher: teacher, mask: mask)
    }

    /// The whole batch with positions, [B, T, D]; nothing is padded.
    public func unmaskedInput(_ batch: Tensor) -> (input: Tensor, validLengths: [Int]?) {
        (addPositions(projection(inputNorm(batch))), nil)
    }

    func addPositions(_ x: Tensor) -> Tensor {
        let length = x.shape[1]
        return x + positions(Array(0..<length), shape: [length])
    }
}
