// Bags of words (Sources/Evaluation/BagOfWords.swift): the vocabulary and counts by hand, and why bigram shift
// defeats them.
import Autograd
@testable import Evaluation
import Testing

@Suite("Bags of words")
struct BagOfWordsTests {
    /// Ids in order of first appearance; unknown words dropped; counts per row.
    @Test func vocabularyAndCountsByHand() {
        let vocabulary = WordVocabulary(fitting: ["a good film", "a bad , bad film"])
        #expect(vocabulary.count == 5)  // a good film bad ,
        #expect(vocabulary.words("a great film") == [0, 2])
        let counts = vocabulary.counts(["bad bad film", "nothing here"])
        #expect(counts.shape == [2, 5])
        #expect(counts.scalars == [0, 0, 1, 2, 0, 0, 0, 0, 0, 0])
    }

    /// A sentence and its shifted copy give the same bag: both classifiers must score them alike, so on a paired
    /// bigram-shift test set each gets exactly half right.
    @Test func aBagOfWordsIsAtChanceOnPairedBigramShift() {
        let train = ["he saw her", "saw he her", "they ran home", "they home ran", "we ate bread", "ate we bread"]
        let test = ["he ran home", "ran he home", "we saw bread", "we bread saw"]
        let result = bagOfWordsAccuracy(train: train, labels: [0, 1, 0, 1, 0, 1], test: test, testLabels: [0, 1, 0, 1], classCount: 2)
        #expect(result.naiveBayes == 0.5 && result.logistic == 0.5)
    }

    /// Where words do carry the label, both read it.
    @Test func bothReadWordsThatCarryTheLabel() {
        let train = ["good fun", "great good", "fun great", "bad dull", "dull awful", "awful bad"]
        let result = bagOfWordsAccuracy(train: train, labels: [1, 1, 1, 0, 0, 0], test: ["good great", "bad awful"], testLabels: [1, 0], classCount: 2)
        #expect(result.naiveBayes == 1 && result.logistic == 1)
        #expect(bagOfWordsAccuracy(train: train, labels: [1, 1, 1, 0, 0, 0], test: ["good"], testLabels: [1], classCount: 2, maximumCells: 10).logistic == nil)
    }
}
