// The few-label protocol: how a self-supervised encoder is measured where pretraining should matter most.
//
//   for each label count (10, 50, 100, 1,000 labelled examples ...)
//     for each evaluation seed
//       one class-balanced labelled subset, drawn once and given to every method alike
//       each method trains on it (choices made only on labelled examples held out of it) and is scored
//   report each method's mean and range over the seeds, and its difference from a baseline seed by seed
//
// Paired differences are what make a few seeds enough: two methods scored on the same subset share that
// subset's luck (an easy or a hard draw), and their difference cancels it.
import Autograd

/// Label counts x evaluation seeds, with one labelled subset per pair, identical for every method.
public struct FewLabelProtocol: Sendable {
    /// The numbers of labelled examples, in order.
    public let counts: [Int]
    /// Evaluation seeds per count (0..<seeds).
    public let seeds: Int
    /// count -> seed -> the indices of the labelled examples (class-balanced).
    public let subsets: [Int: [[Int]]]
    /// The seed every draw derives from.
    public let seed: UInt64

    /// Draws every subset from `labels` with seeds derived from `seed` (see `UInt64.derived`).
    public init(labels: [Int], classCount: Int, counts: [Int], seeds: Int, seed: UInt64) throws(EvaluationError) {
        var subsets: [Int: [[Int]]] = [:]
        for count in counts {
            var drawn: [[Int]] = []
            for run in 0..<seeds {
                var rng = RandomGenerator(seed: seed.derived("labelled subset \(count)", run))
                drawn.append(try balancedSubset(labels: labels, classCount: classCount, count: count, using: &rng))
            }
            subsets[count] = drawn
        }
        self.counts = counts
        self.seeds = seeds
        self.subsets = subsets
        self.seed = seed
    }

    /// The labelled examples of evaluation seed `seed` at `count` labels.
    public func subset(_ count: Int, seed: Int) -> [Int] { subsets[count]![seed] }
}

/// One method's scores over the protocol: count -> one score per evaluation seed, in seed order.
public struct ProtocolScores: Sendable {
    /// The method's name as tables print it.
    public let name: String
    /// count -> scores by seed.
    public private(set) var scores: [Int: [Float]] = [:]
    /// count -> seed -> the labelled examples the score was measured with (to check that methods shared them).
    public private(set) var subsets: [Int: [Int: [Int]]] = [:]

    /// No scores yet.
    public init(_ name: String) { self.name = name }

    /// Records the score of evaluation seed `seed` at `count` labels, measured with the labelled examples `subset`.
    public mutating func record(_ score: Float, count: Int, seed: Int, subset: [Int]) {
        subsets[count, default: [:]][seed] = subset
        var row = scores[count] ?? []
        if row.count <= seed { row += [Float](repeating: .nan, count: seed + 1 - row.count) }
        row[seed] = score
        scores[count] = row
    }

    /// The statistics at `count` labels, or nil when nothing was recorded there.
    public func statistics(_ count: Int) -> SeedStatistics? { scores[count].map { SeedStatistics($0) } }

    /// Seed by seed, this method's score minus `baseline`'s at `count` labels (only seeds both have).
    public func difference(from baseline: ProtocolScores, count: Int) -> SeedStatistics? {
        guard let mine = scores[count], let theirs = baseline.scores[count] else { return nil }
        let pairs = zip(mine, theirs).filter { !$0.0.isNaN && !$0.1.isNaN }
        return pairs.isEmpty ? nil : SeedStatistics(pairs.map { $0 - $1 })
    }
}

/// Whether every method that was scored at the same count and evaluation seed was given the same labelled
/// examples (the protocol's first promise), and how many (method, count, seed) scores were compared.
public func sameLabelledExamples(_ methods: [ProtocolScores]) -> (holds: Bool, compared: Int) {
    var seen: [String: [Int]] = [:]
    var compared = 0
    for method in methods {
        for (count, bySeed) in method.subsets {
            for (seed, subset) in bySeed {
                compared += 1
                let key = "\(count)|\(seed)"
                if let first = seen[key], first != subset { return (false, compared) }
                seen[key] = subset
            }
        }
    }
    return (true, compared)
}
