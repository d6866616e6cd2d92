// Bags of words: the classical references for text with few labels. A text is split at spaces (SST-2's files
// are tokenized already: punctuation stands apart), and each word of the vocabulary becomes one count. The
// vocabulary is fitted on the labelled texts alone, as scikit-learn's `CountVectorizer` is fitted on the
// training split; words seen only at test time are dropped. Two classifiers read the bags:
//
//   - multinomial Naive Bayes on the word ids (NaiveBayes.swift, `MultinomialNB(alpha=1)`);
//   - logistic regression on the counts (LogisticRegression.swift, `LogisticRegression(C=1)`).
//
// On bigram shift both are at chance by construction: a sentence and its shifted copy hold the same bag.
import Autograd

/// The words of a set of texts, each with an id in order of first appearance.
public struct WordVocabulary: Sendable {
    /// Each word's id.
    public let ids: [Substring: Int]
    /// The number of words.
    public var count: Int { ids.count }

    /// The vocabulary of `texts` (split at spaces).
    public init(fitting texts: [String]) {
        var ids: [Substring: Int] = [:]
        for text in texts { for word in text.split(separator: " ") where ids[word] == nil { ids[word] = ids.count } }
        self.ids = ids
    }

    /// The ids of a text's words, in order; words outside the vocabulary are dropped.
    public func words(_ text: String) -> [Int] { text.split(separator: " ").compactMap { ids[$0] } }

    /// Word counts, [N, V]: row n counts the words of `texts[n]`.
    public func counts(_ texts: [String]) -> Tensor {
        var values = [Float](repeating: 0, count: texts.count * count)
        for (n, text) in texts.enumerated() { for id in words(text) { values[n * count + id] += 1 } }
        return Tensor(shape: [texts.count, count], values)
    }
}

/// Test accuracies of the two bag-of-words classifiers fitted on labelled texts. The logistic regression reads a
/// dense [N, V] matrix of counts; above `maximumCells` entries (10,000 texts of 6,000 words) it is not fitted and its
/// accuracy is nil.
///
/// ```swift
/// let (bayes, logistic) = bagOfWordsAccuracy(train: phrases, labels: labels, test: sentences, testLabels: gold, classCount: 2)
/// ```
public func bagOfWordsAccuracy(train: [String], labels: [Int], test: [String], testLabels: [Int], classCount: Int,
                               inverseRegularization c: Double = 1, maximumCells: Int = 20_000_000) -> (naiveBayes: Float, logistic: Float?) {
    let vocabulary = WordVocabulary(fitting: train)
    let bayes = MultinomialNaiveBayes(documents: train.map(vocabulary.words), labels: labels, classCount: classCount,
                                      vocabularySize: max(1, vocabulary.count))
    let naiveBayes = bayes.accuracy(test.map(vocabulary.words), labels: testLabels)
    guard train.count * vocabulary.count <= maximumCells, vocabulary.count > 0 else { return (naiveBayes, nil) }
    let logistic = LogisticRegression(features: vocabulary.counts(train), labels: labels, classCount: classCount, inverseRegularization: c)
    return (naiveBayes, logistic.accuracy(vocabulary.counts(test), labels: testLabels))
}
