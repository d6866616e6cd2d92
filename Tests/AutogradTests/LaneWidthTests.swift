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
        for width in [8, 16, 24, 56, 64] {
            let rows = 5
            let scores = (0..<(rows * width)).map { _ in rng.normal() * 3 }
            let dA = (0..<(rows * width)).map { _ in rng.normal() }
            var bias = (0..<width).map { $0 % 5 == 3 || $0 >= width - 3 ? -Float.infinity : 0 }
            func run(_ wide: Bool, _ bias: [Float]) -> [[Float]] {
                var (a, ds) = (scores, dA)
                if wide {
                    Wide.softmaxRows(&a, rows: rows, width: width, keyBias: bias)
                    Wide.softmaxGradientRows(&ds, attention: a, rows: rows, width: width)
                } else {
                    LaneKernels.softmaxRows(&a, rows: rows, width: width, keyBias: bias)
                    LaneKernels.softmaxGradientRows(&ds, attention: a, rows: rows, width: width)
                }
                return [a, ds]
            }
            for (a, b) in zip(run(false, bias), run(true, bias)) { #expect(firstDifference(a, b, names: ("with eight lanes", "with sixteen")) == nil, "width \(width)") }
            bias = [Float](repeating: -.infinity, count: width)  // every key padded: all zeros, no NaN
            let (eight, sixteen) = (run(false, bias), run(true, bias))
            #expect(eight[0].allSatisfy { $0 == 0 } && sixteen[0].allSatisfy { $0 == 0 })
        }
    }

    /// The softmax rows sum to 1 and put exactly 0 on padded keys, whichever copy runs.
    @Test func softmaxRowsSumToOneAndIgnorePaddedKeys() {
        var rng = RandomGenerator(seed: 42)
        let (rows, width) = (3, 24)
        var scores = (0..<(rows * width)).map { _ in rng.normal() * 5 }
        let bias = (0..<width).map { $0 >= 20 || $0 == 2 ? -Float.infinity : 0 }
        Lane.softmaxRows(&scores, rows: rows, width: width, keyBias: bias)
        for r in 0..<rows {
            let row = Array(scores[(r * width)..<((r + 1) * width)])
            #expect(Swift.abs(row.reduce(0, +) - 1) < 1e-6)
            #expect(row[2] == 0 && row[20...].allSatisfy { $0 == 0 })
        }
    }
}
