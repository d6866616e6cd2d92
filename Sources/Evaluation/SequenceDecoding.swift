// Reading a label sequence off per-frame predictions (CTC's greedy decoding) and scoring it against the
// reference with the edit distance, as speech recognition reports its word (here: digit) error rate.
import Autograd

/// Greedy CTC decoding: the most likely symbol at each valid frame, repeats merged, blanks dropped
/// ("--33-5" reads "35"). logits [B, T, C]; returns one label sequence per sample.
public func greedyDecode(logits: Tensor, lengths: [Int], blank: Int = 0) -> [[Int]] {
    require(logits.rank == 3 && logits.shape[0] == lengths.count, "greedyDecode: logits \(logits.shape) do not match \(lengths.count) lengths")
    let (t, c) = (logits.shape[1], logits.shape[2])
    let x = logits.storage.pointer
    return lengths.enumerated().map { b, length in
        var labels: [Int] = [], previous = -1
        for f in 0..<min(length, t) {
            let row = x + (b * t + f) * c
            var best = 0
            for k in 1..<c where row[k] > row[best] { best = k }
            if best != previous && best != blank { labels.append(best) }
            previous = best
        }
        return labels
    }
}

/// The Levenshtein distance: the fewest insertions, deletions and substitutions that turn `hypothesis` into `reference`.
public func editDistance(_ hypothesis: [Int], _ reference: [Int]) -> Int {
    var previous = Array(0...reference.count)
    for (i, h) in hypothesis.enumerated() {
        var current = [i + 1] + [Int](repeating: 0, count: reference.count)
        for (j, r) in reference.enumerated() {
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (h == r ? 0 : 1))
        }
        previous = current
    }
    return previous[reference.count]
}

/// The error rate of a set of hypotheses: total edit distance over total reference length (the word
/// error rate's formula, on digits).
public func errorRate(hypotheses: [[Int]], references: [[Int]]) -> Float {
    require(hypotheses.count == references.count, "errorRate: \(hypotheses.count) hypotheses for \(references.count) references")
    let edits = zip(hypotheses, references).map { editDistance($0, $1) }.reduce(0, +)
    return Float(edits) / Float(max(1, references.map(\.count).reduce(0, +)))
}
