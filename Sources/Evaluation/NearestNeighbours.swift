// k-nearest neighbours by cosine similarity: the first classifier a skeptic tries, and the frozen-feature
// probe self-supervised papers report beside the linear one (DINO, Caron et al. 2021, section 4.1: a
// weighted vote of the 20 nearest neighbours, each weighted exp(similarity / 0.07)). No training, no
// hyperparameter but k: what it scores is what the features' geometry already holds.
//
// On raw pixels it is the reference pretraining must beat: MNIST digits that look alike are mostly the same
// digit, so 1-NN on pixels is strong when labels are few.
import Autograd
import Foundation

/// A k-nearest-neighbour classifier with cosine similarity.
///
/// ```swift
/// let knn = NearestNeighbourClassifier(features: trainFeatures, labels: trainLabels, classCount: 10, k: 20,
///                                      vote: .weighted(temperature: 0.07))
/// let accuracy = knn.accuracy(testFeatures, labels: testLabels)
/// ```
public struct NearestNeighbourClassifier {
    /// How the k neighbours vote.
    public enum Vote: Sendable, Equatable {
        /// One vote each; a tie goes to the smallest class (as scikit-learn's `weights="uniform"`).
        case majority
        /// Each neighbour votes exp(similarity / temperature) (DINO's k-NN, temperature 0.07).
        case weighted(temperature: Float)
    }

    /// The labelled examples' features, each row scaled to unit length, [N, F].
    public let references: Tensor
    /// Their labels.
    public let labels: [Int]
    /// Classes 0..<classCount.
    public let classCount: Int
    /// Neighbours that vote (at most N).
    public let k: Int
    /// How they vote.
    public let vote: Vote

    /// Keeps the labelled examples: `features` [N, F], one label each in 0..<classCount.
    public init(features: Tensor, labels: [Int], classCount: Int, k: Int, vote: Vote = .majority) {
        require(features.rank == 2 && features.shape[0] == labels.count && !labels.isEmpty,
                "NearestNeighbourClassifier: features \(features.shape) do not match \(labels.count) labels")
        require(k >= 1, "NearestNeighbourClassifier: k must be at least 1, got \(k)")
        require(labels.allSatisfy { (0..<classCount).contains($0) }, "NearestNeighbourClassifier: a label is outside 0..<\(classCount)")
        references = unitRows(features)
        self.labels = labels
        self.classCount = classCount
        self.k = min(k, labels.count)
        self.vote = vote
    }

    /// The predicted class of every row of `queries` [M, F].
    public func predict(_ queries: Tensor) -> [Int] {
        require(queries.rank == 2 && queries.shape[1] == references.shape[1],
                "NearestNeighbourClassifier: queries \(queries.shape) do not have the references' \(references.shape[1]) features")
        let normalized = unitRows(queries)
        var predictions: [Int] = []
        predictions.reserveCapacity(queries.shape[0])
        // Similarities of a block of queries to every reference at once: one product through BLAS.
        for start in stride(from: 0, to: queries.shape[0], by: 256) {
            let block = normalized.sliced(start..<min(start + 256, queries.shape[0]), along: 0)
            let similarities = Tensor.withoutGradients { block.matmul(references, transposeOther: true) }  // [b, N]
            let n = references.shape[0], values = similarities.storage.pointer
            for row in 0..<block.shape[0] {
                predictions.append(classify(UnsafeBufferPointer(start: values + row * n, count: n)))
            }
        }
        return predictions
    }

    /// The fraction of `queries` whose predicted class is their label.
    public func accuracy(_ queries: Tensor, labels queryLabels: [Int]) -> Float {
        let predictions = predict(queries)
        require(predictions.count == queryLabels.count, "NearestNeighbourClassifier: \(predictions.count) queries but \(queryLabels.count) labels")
        return Float(zip(predictions, queryLabels).filter { $0 == $1 }.count) / Float(max(1, queryLabels.count))
    }

    /// The vote of the k most similar references (ties in similarity: the earlier reference first).
    func classify(_ similarities: UnsafeBufferPointer<Float>) -> Int {
        // The k best so far, kept sorted by similarity, best first (k is small: insertion is cheapest).
        var best: [(similarity: Float, index: Int)] = []
        best.reserveCapacity(k + 1)
        for (index, similarity) in similarities.enumerated() where best.count < k || similarity > best[best.count - 1].similarity {
            var position = best.count
            while position > 0 && best[position - 1].similarity < similarity { position -= 1 }
            best.insert((similarity, index), at: position)
            if best.count > k { best.removeLast() }
        }
        var votes = [Double](repeating: 0, count: classCount)
        for neighbour in best {
            switch vote {
            case .majority: votes[labels[neighbour.index]] += 1
            case .weighted(let temperature): votes[labels[neighbour.index]] += Double(exp(neighbour.similarity / temperature))
            }
        }
        var winner = 0
        for c in 1..<classCount where votes[c] > votes[winner] { winner = c }
        return winner
    }
}

/// Each row divided by its length (a zero row stays zero), [N, F].
func unitRows(_ x: Tensor) -> Tensor {
    let (n, f) = (x.shape[0], x.shape[1])
    let source = x.storage.pointer
    var values = [Float](repeating: 0, count: n * f)
    for row in 0..<n {
        var sum: Float = 0
        for j in 0..<f { sum += source[row * f + j] * source[row * f + j] }
        let scale = sum > 0 ? 1 / sum.squareRoot() : 0
        for j in 0..<f { values[row * f + j] = source[row * f + j] * scale }
    }
    return Tensor(shape: [n, f], values)
}
