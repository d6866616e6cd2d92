// The element kernels exist in two copies (LaneKernels.swift): eight lanes (AVX2, in Autograd) and sixteen
// (AVX-512, in WideKernels). The width is a speed choice only, so the copies must give the same bits, and
// the choice must follow the CPU and the environment.
@testable import Autograd
import Foundation
import Testing
import WideKernels

@Suite("Lane width")
struct LaneWidthTests {
    /// Where two arrays first differ in a bit, or nil.
    func firstDifference(_ a: [Float], _ b: [Float], names: (String, String) = ("got", "expected")) -> String? {
        guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
        return "element \(i): \(a[i]) \(names.0), \(b[i]) \(names.1)"
    }

    @Test func theWideCopyRunsOnlyWhereTheCPUHasAVX512() {
        let avx2: Set<String> = ["sse4_2", "avx", "avx2", "fma", "bmi2"]
        #if arch(x86_64)
        #expect(LaneWidth.decide(cpuFlags: LaneWidth.wideFlags, environmentValue: nil).width == .sixteen)
        #expect(LaneWidth.decide(cpuFlags: avx2, environmentValue: nil).width == .eight)
        #expect(LaneWidth.decide(cpuFlags: avx2, environmentValue: "16").width == .eight)  // asked for, but absent
        #expect(LaneWidth.decide(cpuFlags: LaneWidth.wideFlags.subtracting(["avx512bw"]), environmentValue: nil).width == .eight)
        #endif
        #expect(LaneWidth.decide(cpuFlags: LaneWidth.wideFlags, environmentValue: "8").width == .eight)
    }

    @Test func aMistypedEnvironmentValueIsAnErrorThatSaysWhatToSet() {
        #if arch(x86_64)
        let (width, reason) = LaneWidth.decide(cpuFlags: LaneWidth.wideFlags, environmentValue: "sixteen")
        #expect(width == nil)
        #expect(reason.contains("DATA2VEC_LANES=sixteen") && reason.contains("8") && reason.contains("16"))
        #endif
    }

    /// Both copies on the same inputs, bit for bit: GELU and its gradient on lengths that end in a partial
    /// vector of either width, the attention softmax and its gradient on rows of 8 to 64 floats with padded
    /// keys and a fully padded row. Runs where the CPU can execute the wide copy.
    @Test(.enabled(if: LaneWidth.decide(cpuFlags: KernelChoice.cpuFlags(), environmentValue: nil).width == .sixteen,
                   "the CPU has no AVX-512, so the sixteen-lane copy cannot run here"))
    func bothCopiesGiveTheSameBits() {
        var rng = RandomGenerator(seed: 41)
        for n in [1, 7, 8, 15, 16, 17, 24, 50_003] {
            var x = (0..<n).map { _ in rng.normal() * 4 }
            if n > 20 { x[3] = 0; x[4] = -0.0; x[5] = 40; x[6] = -40; x[7] = 1e-30 }
            let g = (0..<n).map { _ in rng.normal() }, start = (0..<n).map { _ in rng.normal() }
            func run(_ wide: Bool) -> [[Float]] {
                var (y, y2, cdf, dx, dxAdded) = ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n),
                                                 [Float](repeating: 0, count: n), [Float](repeating: 0, count: n), start)
                if wide {
                    Wide.gelu(x, &y, count: n)
                    Wide.gelu(x, &y2, keepingCDF: &cdf, count: n)
                    Wide.geluGradient(x, g, cdf: cdf, into: &dx, count: n, accumulating: false)
                    Wide.geluGradient(x, g, cdf: cdf, into: &dxAdded, count: n, accumulating: true)
                } else {
                    LaneKernels.gelu(x, &y, count: n)
                    LaneKernels.gelu(x, &y2, keepingCDF: &cdf, count: n)
                    LaneKernels.geluGradient(x, g, cdf: cdf, into: &dx, count: n, accumulating: false)
                    LaneKernels.geluGradient(x, g, cdf: cdf, into: &dxAdded, count: n, accumulating: true)
                }
                return [y, y2, cdf, dx, dxAdded]
            }
            let (eight, sixteen) = (run(false), run(true))
            for (a, b) in zip(eight, sixteen) { #expect(firstDifference(a, b, names: ("with eight lanes", "with sixteen")) == nil, "n = \(n)") }
        }
        // Attention's softmax on the transposed scores: `keys` rows of `width` floats, `queries` <= width columns.
        for (keys, queries, width) in [(5, 8, 8), (9, 16, 16), (17, 20, 24), (49, 49, 56), (64, 64, 64), (3, 1, 8)] {
            let scores = (0..<(keys * width)).map { _ in rng.normal() * 3 }
            let dA = (0..<(keys * width)).map { _ in rng.normal() }
            var bias = (0..<keys).map { $0 % 5 == 3 ? -Float.infinity : 0 }
            func run(_ wide: Bool, _ bias: [Float]) -> [[Float]] {
                var (a, ds) = (scores, dA)
                if wide {
                    Wide.softmaxColumns(&a, keys: keys, queries: queries, width: width, keyBias: bias)
                    Wide.softmaxGradientColumns(&ds, attention: a, keys: keys, width: width)
                } else {
                    LaneKernels.softmaxColumns(&a, keys: keys, queries: queries, width: width, keyBias: bias)
                    LaneKernels.softmaxGradientColumns(&ds, attention: a, keys: keys, width: width)
                }
                return [a, ds]
            }
            for (a, b) in zip(run(false, bias), run(true, bias)) {
                #expect(firstDifference(a, b, names: ("with eight lanes", "with sixteen")) == nil, "\(keys) keys, width \(width)")
            }
            bias = [Float](repeating: -.infinity, count: keys)  // every key padded: all zeros, no NaN
            let (eight, sixteen) = (run(false, bias), run(true, bias))
            #expect(eight[0].allSatisfy { $0 == 0 } && sixteen[0].allSatisfy { $0 == 0 })
        }
    }

    /// Every column of the transposed softmax sums to 1 and puts exactly 0 on padded keys and in the
    /// columns past the last query, whichever copy runs.
    @Test func softmaxColumnsSumToOneAndIgnorePaddedKeys() {
        var rng = RandomGenerator(seed: 42)
        let (keys, queries, width) = (21, 19, 24)
        var scores = (0..<(keys * width)).map { _ in rng.normal() * 5 }
        let bias = (0..<keys).map { $0 >= 18 || $0 == 2 ? -Float.infinity : 0 }
        Lane.softmaxColumns(&scores, keys: keys, queries: queries, width: width, keyBias: bias)
        for q in 0..<width {
            let column = (0..<keys).map { scores[$0 * width + q] }
            if q < queries {
                #expect(Swift.abs(column.reduce(0, +) - 1) < 1e-6)
                #expect(column[2] == 0 && column[18...].allSatisfy { $0 == 0 })
            } else {
                #expect(column.allSatisfy { $0 == 0 }, "padding column \(q)")
            }
        }
    }

    /// The column kernels compute each weight as the float a softmax row by row computes on S (before the
    /// transposed layout, the kernel of the previous commits): max, e^(s - max) lane by lane, the row's
    /// terms added as eight partial sums (key j into sum j % 8, in order) and those eight one after the
    /// other, then times 1 / sum. Checked bit for bit against that recipe written out one query at a time;
    /// the gradient's dot product likewise.
    @Test func theColumnKernelsAddInTheOrderOfARow() {
        var rng = RandomGenerator(seed: 43)
        for (keys, queries, width) in [(49, 49, 56), (64, 64, 64), (11, 9, 16)] {
            let scores = (0..<(keys * width)).map { _ in rng.normal() * 4 }
            let dA = (0..<(keys * width)).map { _ in rng.normal() }
            let bias = (0..<keys).map { $0 == 4 ? -Float.infinity : 0 }
            var a = scores, ds = dA
            Lane.softmaxColumns(&a, keys: keys, queries: queries, width: width, keyBias: bias)
            Lane.softmaxGradientColumns(&ds, attention: a, keys: keys, width: width)
            for q in 0..<queries {
                let row = (0..<keys).map { bias[$0] < -1e30 ? -Float.infinity : scores[$0 * width + q] + bias[$0] }
                let maximum = row.reduce(-Float.infinity) { $1 > $0 ? $1 : $0 }
                let e = row.map { fastExp(Lanes(repeating: $0 - maximum))[0] }
                var partial = [Float](repeating: 0, count: 8)
                for (j, term) in e.enumerated() { partial[j % 8] += term }
                let total = partial.dropFirst().reduce(partial[0], +)
                let expected = e.map { $0 * (1 / total) }
                let got = (0..<keys).map { a[$0 * width + q] }
                #expect(firstDifference(got, expected) == nil, "softmax, query \(q) of \(queries), \(keys) keys")
                var dotPartial = [Float](repeating: 0, count: 8)
                for j in 0..<keys { dotPartial[j % 8] += dA[j * width + q] * expected[j] }
                let dot = dotPartial.dropFirst().reduce(dotPartial[0], +)
                let expectedGradient = (0..<keys).map { (dA[$0 * width + q] - dot) * expected[$0] }
                #expect(firstDifference((0..<keys).map { ds[$0 * width + q] }, expectedGradient) == nil, "gradient, query \(q)")
            }
        }
    }
}
