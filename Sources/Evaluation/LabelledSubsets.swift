// Which examples get labels: class-balanced subsets, and a validation split carved out of them.
import Autograd

/// Why a labelled subset cannot be drawn.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case notEnoughExamples(asked: Int, available: Int)
    case labelOutOfRange(label: Int, classCount: Int)

    /// What went wrong and how to fix it.
    public var description: String {
        switch self {
        case .notEnoughExamples(let asked, let available):
            "asked for \(asked) labelled examples but the training set has only \(available); ask for fewer labels or use more data"
        case .labelOutOfRange(let label, let classCount):
            "label \(label) is outside 0..<\(classCount)"
        }
    }
}

/// `count` example indices with the classes as equal as possible: after shuffling with `rng`, the first
/// example of each class in turn, then the second of each, and so on (a class that runs out is skipped).
/// Throws when `count` exceeds the number of examples.
public func balancedSubset(labels: [Int], classCount: Int, count: Int, using rng: inout RandomGenerator) throws(EvaluationError) -> [Int] {
    guard count <= labels.count else { throw .notEnoughExamples(asked: count, available: labels.count) }
    var byClass = [[Int]](repeating: [], count: classCount)
    for i in rng.permutation(labels.count) {
        guard labels[i] >= 0 && labels[i] < classCount else { throw .labelOutOfRange(label: labels[i], classCount: classCount) }
        byClass[labels[i]].append(i)
    }
    var chosen: [Int] = []
    var round = 0
    while chosen.count < count {  // terminates: count <= labels.count, and each round takes every class's next example
        for c in 0..<classCount where chosen.count < count && round < byClass[c].count { chosen.append(byClass[c][round]) }
        round += 1
    }
    return chosen
}

/// Splits labelled examples into a training part and a validation part of about `fraction`, class by class
/// (every class keeps at least one training example). Returns no validation part when there are fewer than
/// `minimumExamples` examples: too few to both train on and validate with.
public func validationSplit(_ indices: [Int], labels: [Int], fraction: Double, minimumExamples: Int,
                            using rng: inout RandomGenerator) -> (train: [Int], validation: [Int]) {
    guard indices.count >= minimumExamples, fraction > 0 else { return (indices, []) }
    var byClass: [Int: [Int]] = [:]
    for i in indices { byClass[labels[i], default: []].append(i) }
    var train: [Int] = [], validation: [Int] = []
    for label in byClass.keys.sorted() {
        var members = byClass[label]!
        rng.shuffle(&members)
        let held = min(members.count - 1, Int((fraction * Double(members.count)).rounded()))
        validation += members.prefix(held)
        train += members.dropFirst(held)
    }
    return (train, validation)
}
