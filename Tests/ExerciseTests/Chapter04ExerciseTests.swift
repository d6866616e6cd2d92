// The answer key of chapter 04's exercises: the part of each answer that can be checked in seconds.
import Autograd
@testable import Data2Vec
import NN
import Testing

@Suite("Chapter 04 exercises")
struct Chapter04ExerciseTests {
    /// Exercise 1 (--span-batch 64): with `require_same_masks`, the batch's fraction is that of its
    /// unluckiest row, and the more rows, the unluckier the worst: the fraction falls as B grows.
    @Test func exercise1_largerBatchesMaskLessAfterTrimming() {
        var rng = RandomGenerator(seed: 41)
        let masking = SpanMasking(probability: 0.65, spanLength: 10)
        func fraction(rows: Int) -> Double {
            (0..<40).map { _ in masking(batchSize: rows, length: 200, using: &rng).ratio }.reduce(0, +) / 40
        }
        let (four, twelve, sixtyFour) = (fraction(rows: 4), fraction(rows: 12), fraction(rows: 64))
        #expect(four > twelve && twelve > sixtyFour)
        #expect(sixtyFour < 0.40 && four < 0.49)
    }

    /// Exercise 2 (--layerwise-norm layer): instance norm makes every channel zero-mean over time; layer
    /// norm makes every time step zero-mean over the channels.
    @Test func exercise2_eachNormalizationZeroesItsOwnAxis() {
        var rng = RandomGenerator(seed: 42)
        let x = Tensor.normal([1, 6, 4], mean: 3, std: 2, using: &rng)
        let overTime = instanceNorm(x).mean(alongAxes: [1]).scalars      // per channel: [1, 4]
        let overChannels = x.layerNorm().mean(alongAxes: [2]).scalars     // per step: [1, 6]
        #expect(overTime.allSatisfy { abs($0) < 1e-5 })
        #expect(overChannels.allSatisfy { abs($0) < 1e-5 })
        #expect(!instanceNorm(x).mean(alongAxes: [2]).scalars.allSatisfy { abs($0) < 1e-3 })  // not the other axis
    }

    /// Exercise 3 (--top-k 1): the target is the last block's output alone, normalized.
    @Test func exercise3_topOneIsTheLastBlockNormalized() {
        var rng = RandomGenerator(seed: 43)
        let encoder = TransformerEncoder(TransformerConfiguration(blockCount: 3, dimension: 8, headCount: 2, feedForwardDimension: 16,
                                                                  placement: .postLN), using: &rng)
        let blocks = Tensor.withoutGradients { encoder(Tensor.normal([2, 5, 8], using: &rng), recordBlocks: true).blocks }
        let target = TargetBuilder(topK: 1, layerwise: .instance)(blocks)
        #expect(target.scalars == instanceNorm(blocks[2].feedForward).scalars)
    }

    /// Exercise 4 (--collapse-tau 0.99): a teacher at tau has a memory of about 1 / (1 - tau) updates: after
    /// 100 updates toward a fixed student at tau 0.99 it has covered 1 - 0.99^100 = 63% of the way.
    @Test func exercise4_tauPointNineNineRemembersAboutAHundredUpdates() {
        var rng = RandomGenerator(seed: 44)
        let student = Linear(1, 1, bias: false, using: &rng), copy = Linear(1, 1, bias: false, using: &rng)
        student.weight.storage.pointer[0] = 1
        let teacher = EMATeacher(student: student, copy: copy, schedule: .constant(0.99))
        teacher.model.weight.storage.pointer[0] = 0
        for _ in 0..<100 { teacher.update(from: student) }
        #expect(abs(teacher.model.weight.item - 0.634) < 0.001)
    }

    /// The collapse table of one log: loss, target variance, prediction variance, lowest prediction variance of
    /// runs (a), (b) and (c).
    static func collapseRuns(_ name: String) throws -> (a: [Double], b: [Double], c: [Double]) {
        let log = try ExerciseLog(name)
        func row(_ prefix: String) throws -> [Double] {
            let line = try #require(log.lines(containing: prefix).first { $0.hasPrefix("  \(prefix)") })
            return Array(log.numbers(in: line).suffix(4))
        }
        return (try row("(a) data2vec"), try row("(b) raw targets"), try row("(c) tau ="))
    }

    /// The outcomes chapters/04-data2vec/README.md states, on the exercise runs' logs.
    @Test func theExerciseRunsShowWhatTheREADMESays() throws {
        // 1: the trimmed fraction falls with more rows.
        func trimmed(_ name: String) throws -> Double {   // "... 49.4% per row, 41.7% after require_same_masks"
            let log = try ExerciseLog(name), line = try #require(log.lines(containing: "span masking in a batch, B =").first)
            return try #require(log.numbers(in: String(line[line.range(of: "per row, ")!.upperBound...])).first)
        }
        #expect(try trimmed("exercises/ch04-span-batch-64") < trimmed("ch04-data2vec"))
        let plain = try Self.collapseRuns("ch04-data2vec")
        // 2: layer norm lowers (a)'s variances but keeps it off the floor; (c) still collapses.
        let layer = try Self.collapseRuns("exercises/ch04-layerwise-norm-layer")
        #expect(layer.a[2] < plain.a[2] && layer.a[3] > 0.01 && layer.c[3] <= 0.0011)
        // 3: one block keeps the target's whole variance; (c) still collapses and (a) does not.
        let top1 = try Self.collapseRuns("exercises/ch04-top-k-1")
        #expect(top1.a[1] > plain.a[1] && top1.a[3] > 0.01 && top1.c[3] < 0.002)
        // 4: tau 0.99 still collapses.
        let slow = try Self.collapseRuns("exercises/ch04-collapse-tau-0.99")
        #expect(slow.c[3] <= 0.0011 && slow.a[3] > 0.01)
    }
}
