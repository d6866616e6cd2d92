// Bigram shift (Sources/Datasets/BigramShift.swift): sentences cut by hand, a swap that keeps every word, and
// examples that are balanced and paired.
import Autograd
@testable import Datasets
import Testing

@Suite("Bigram shift")
struct BigramShiftTests {
    static let text = """
        he had never seen her so pale . "are you ill?" she asked him quietly.
        no.
        the door opened and a tall man came in, shaking the snow from his coat!
        """

    /// Cut after a word ending in . ! or ? (a closing quote may follow); kept when 3 to 8 words long.
    @Test func sentencesAreCutAtTheirEndsAndKeptByLength() {
        let sentences = BigramShift.sentences(in: BigramShiftTests.text, words: 3...8)
        // "he had never seen her so pale ." (8 words), "\"are you ill?\"" (3), "she asked him quietly." (4);
        // "no." (1 word) is too short and the door sentence (14 words) too long.
        #expect(sentences == ["he had never seen her so pale .", "\"are you ill?\"", "she asked him quietly."])
    }

    /// A shift swaps exactly one pair of adjacent, different words: the same words, two positions exchanged.
    @Test func aShiftSwapsOneAdjacentPairOfDifferentWords() {
        var rng = RandomGenerator(seed: 3)
        let sentence = "the cat sat on the mat today"
        for _ in 0..<50 {
            let shifted = BigramShift.shifted(sentence, using: &rng)!
            let (a, b) = (sentence.split(separator: " "), shifted.split(separator: " "))
            let changed = a.indices.filter { a[$0] != b[$0] }
            #expect(changed.count == 2 && changed[1] == changed[0] + 1)
            #expect(a[changed[0]] == b[changed[1]] && a[changed[1]] == b[changed[0]])
            #expect(a.sorted() == b.sorted())
        }
        #expect(BigramShift.shifted("yes yes yes", using: &rng) == nil)
    }

    /// The test set holds each sentence twice, as itself (0) and shifted (1); a sentence with no pair of
    /// different words is left out.
    @Test func pairedExamplesAreBalancedAndPaired() {
        var rng = RandomGenerator(seed: 1)
        let (texts, labels) = BigramShift.pairedExamples(["a b c", "x x x", "d e f g"], using: &rng)
        #expect(labels == [0, 1, 0, 1])
        #expect(texts[0] == "a b c" && texts[2] == "d e f g")
        #expect(texts[1] != texts[0] && texts[1].split(separator: " ").sorted() == ["a", "b", "c"])
    }

    /// Labels alternate 0, 1, ...; every sentence is used once before any repeats; a label-0 text is a sentence.
    @Test func drawnExamplesAlternateAndUseEverySentenceFirst() {
        var rng = RandomGenerator(seed: 2)
        let sentences = ["a b c", "d e f", "g h i", "j k l"]
        let (texts, labels) = BigramShift.examples(sentences, count: 6, using: &rng)
        #expect(labels == [0, 1, 0, 1, 0, 1])
        let firstPass = texts.prefix(4).map { Set($0.split(separator: " ")) }
        #expect(Set(firstPass) == Set(sentences.map { Set($0.split(separator: " ")) }))
        for (text, label) in zip(texts, labels) where label == 0 { #expect(sentences.contains(text)) }
        for (text, label) in zip(texts, labels) where label == 1 { #expect(!sentences.contains(text)) }
    }
}
