// Bigram shift (SentEval's BShift; Conneau et al., ACL 2018, "What you can cram into a single $&!#* vector"):
// is one pair of adjacent words of this sentence in the wrong order? The labels cost nothing (swap two words,
// or do not), and a bag of words cannot answer: a sentence and its shifted copy hold the same words. What an
// encoder gains here it learned about word order.
//
//   "he had never seen her so pale ."   label 0
//   "he had seen never her so pale ."   label 1 (words 2 and 3 swapped)
//
// SentEval draws 100,000 training sentences from the Toronto Book Corpus; chapter 07 draws its sentences from
// a novel the encoders never pretrained on.

import Autograd

/// Bigram-shift examples from running text.
public enum BigramShift {
    /// The sentences of `text`, in order: each line (a paragraph) cut after a word that ends with . ! or ?
    /// (a closing quote may follow), kept when it has `words` words (split at spaces).
    public static func sentences(in text: String, words: ClosedRange<Int>) -> [String] {
        var sentences: [String] = []
        for line in text.split(separator: "\n") {
            var current: [Substring] = []
            func close() {
                if words.contains(current.count) { sentences.append(current.joined(separator: " ")) }
                current = []
            }
            for word in line.split(separator: " ") {
                current.append(word)
                if let end = word.last(where: { !"\"')".contains($0) }), ".!?".contains(end) { close() }
            }
            close()
        }
        return sentences
    }

    /// `sentence` with one pair of adjacent, different words swapped (the pair drawn uniformly among those
    /// pairs); nil when no such pair exists.
    public static func shifted(_ sentence: String, using rng: inout RandomGenerator) -> String? {
        var words = sentence.split(separator: " ")
        let pairs = words.indices.dropLast().filter { words[$0] != words[$0 + 1] }
        guard !pairs.isEmpty else { return nil }
        let i = pairs[rng.int(below: pairs.count)]
        words.swapAt(i, i + 1)
        return words.joined(separator: " ")
    }

    /// Every sentence twice, as itself (label 0) and shifted (label 1): a balanced, paired test set.
    /// Sentences with no pair of different words are left out.
    public static func pairedExamples(_ sentences: [String], using rng: inout RandomGenerator) -> (texts: [String], labels: [Int]) {
        var texts: [String] = [], labels: [Int] = []
        for sentence in sentences {
            guard let shifted = shifted(sentence, using: &rng) else { continue }
            texts += [sentence, shifted]
            labels += [0, 1]
        }
        return (texts, labels)
    }

    /// `count` examples drawn from `sentences`, half of them shifted (labels alternate 0, 1, ...): the sentences
    /// are taken in a random order, and again in a new order when all are used, so a sentence repeats only when
    /// `count` exceeds their number (with a new swap each time it is shifted).
    public static func examples(_ sentences: [String], count: Int, using rng: inout RandomGenerator) -> (texts: [String], labels: [Int]) {
        let usable = sentences.filter { s in let w = s.split(separator: " "); return w.indices.dropLast().contains { w[$0] != w[$0 + 1] } }
        precondition(!usable.isEmpty, "BigramShift.examples: no sentence has two different adjacent words")
        var texts: [String] = [], labels: [Int] = [], order: [Int] = []
        for k in 0..<count {
            if order.isEmpty { order = Array(rng.permutation(usable.count).reversed()) }
            let sentence = usable[order.removeLast()]
            let label = k % 2
            texts.append(label == 0 ? sentence : shifted(sentence, using: &rng)!)
            labels.append(label)
        }
        return (texts, labels)
    }
}
