// Multinomial Naive Bayes (McCallum and Nigam, 1998): the classical reference for text classification with
// few labels. A document is a bag of tokens; each class has its own distribution over the vocabulary,
// estimated by counting with add-alpha (Laplace) smoothing; the predicted class maximizes
//
//   log P(class) + sum over the document's tokens of log P(token | class).
//
// It is what scikit-learn's `MultinomialNB(alpha=1)` computes on a matrix of token counts. On SST-2 it is the
// number a skeptic compares a pretrained encoder against: no pretraining, no optimization, seconds of work.
import Autograd
import Foundation

/// A fitted multinomial Naive Bayes classifier over token ids 0..<vocabularySize.
///
/// ```swift
/// let bayes = MultinomialNaiveBayes(documents: tokenIds, labels: labels, classCount: 2, vocabularySize: 4096)
/// let accuracy = bayes.accuracy(testTokenIds, labels: testLabels)
/// ```
public struct MultinomialNaiveBayes: Sendable {
    /// log P(class), [K]: the class frequencies of the training documents (scikit-learn's `class_log_prior_`).
    public let logPrior: [Double]
    /// log P(token | class), [K, V] row-major (scikit-learn's `feature_log_prob_`).
    public let logLikelihood: [Double]
    /// K and V.
    public let classCount: Int, vocabularySize: Int

    /// Counts every token of every document (a list of token ids) into its class, smoothed by `alpha`.
    public init(documents: [[Int]], labels: [Int], classCount: Int, vocabularySize: Int, alpha: Double = 1) {
        require(documents.count == labels.count && !labels.isEmpty, "MultinomialNaiveBayes: \(documents.count) documents but \(labels.count) labels")
        require(labels.allSatisfy { (0..<classCount).contains($0) }, "MultinomialNaiveBayes: a label is outside 0..<\(classCount)")
        require(alpha > 0, "MultinomialNaiveBayes: alpha must be positive, got \(alpha)")
        var counts = [Double](repeating: 0, count: classCount * vocabularySize)
        var documentsPerClass = [Double](repeating: 0, count: classCount)
        for (document, label) in zip(documents, labels) {
            documentsPerClass[label] += 1
            for token in document {
                require((0..<vocabularySize).contains(token), "MultinomialNaiveBayes: token id \(token) is outside 0..<\(vocabularySize)")
                counts[label * vocabularySize + token] += 1
            }
        }
        var likelihood = [Double](repeating: 0, count: classCount * vocabularySize)
        for c in 0..<classCount {
            let row = (c * vocabularySize)..<((c + 1) * vocabularySize)
            let total = counts[row].reduce(0, +) + alpha * Double(vocabularySize)
            for i in row { likelihood[i] = log((counts[i] + alpha) / total) }
        }
        logLikelihood = likelihood
        // A class with no document gets log 0 = -infinity, as scikit-learn's prior: it is never predicted.
        logPrior = documentsPerClass.map { log($0 / Double(labels.count)) }
        self.classCount = classCount
        self.vocabularySize = vocabularySize
    }

    /// log P(class) + sum of log P(token | class) for each class: the joint log-likelihood, [K].
    public func scores(_ document: [Int]) -> [Double] {
        (0..<classCount).map { c in
            document.reduce(logPrior[c]) { sum, token in
                (0..<vocabularySize).contains(token) ? sum + logLikelihood[c * vocabularySize + token] : sum
            }
        }
    }

    /// The class of highest score (a tie goes to the smaller class).
    public func predict(_ document: [Int]) -> Int {
        let s = scores(document)
        return (0..<classCount).reduce(0) { s[$1] > s[$0] ? $1 : $0 }
    }

    /// The fraction of documents whose predicted class is their label.
    public func accuracy(_ documents: [[Int]], labels: [Int]) -> Float {
        Float(zip(documents, labels).filter { predict($0) == $1 }.count) / Float(max(1, labels.count))
    }
}
