// Which copy of the lane kernels runs (LaneKernels.swift): eight floats per instruction (AVX2, compiled
// into this module) or sixteen (AVX-512, the module WideKernels). The package is compiled for Haswell
// (Package.swift), so that it runs on any x86-64 CPU since 2013; the sixteen-lane copy exists besides it
// and is chosen here, once, from the CPU's flags. On a CPU with AVX-512 it halves GELU's time (README,
// "Speed"). Both copies give the same bits, so the choice changes speed only.
//
// The environment variable DATA2VEC_LANES=8 keeps the eight-lane copy (to compare, or on a machine where
// wide instructions slow the clock down); DATA2VEC_LANES=16 asks for the wide one where the CPU has it.
import Foundation
import WideKernels

/// Eight floats: Autograd's copy of the lane kernels works on one AVX2 register.
typealias Lanes = SIMD8<Float>

/// Eight floats at p as a vector (with eight lanes, no lane is left to fill).
@_transparent
func loadEight(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }

/// Stores the first eight lanes of v at p.
@_transparent
func storeEight(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }

/// How many floats the lane kernels work on at once, chosen at run time.
public enum LaneWidth: Int, Sendable {
    case eight = 8, sixteen = 16

    /// What the sixteen-lane copy is compiled for (`-target-cpu skylake-avx512`): AVX-512's foundation and
    /// its CD, BW, DQ and VL subsets, and the AVX2, FMA and BMI2 every such CPU has.
    public static let wideFlags: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma", "bmi2"]

    /// The pure decision: CPU flags (as /proc/cpuinfo lists them) x the environment's DATA2VEC_LANES ->
    /// the width, and why; nil and a reason when the environment value is neither 8 nor 16.
    ///
    /// ```swift
    /// LaneWidth.decide(cpuFlags: LaneWidth.wideFlags, environmentValue: nil).width  // .sixteen
    /// ```
    public static func decide(cpuFlags: Set<String>, environmentValue: String?) -> (width: LaneWidth?, reason: String) {
        if let value = environmentValue, !["", "8", "16"].contains(value) {
            return (nil, "DATA2VEC_LANES=\(value) is neither 8 nor 16; unset it, or set 8 (AVX2) or 16 (AVX-512)")
        }
        #if !arch(x86_64)
        return (.eight, "not an x86-64 CPU")
        #else
        let hasWide = wideFlags.isSubset(of: cpuFlags)
        switch environmentValue {
        case "8":
            return (.eight, "DATA2VEC_LANES=8 set by the environment")
        case "16":
            return hasWide ? (.sixteen, "DATA2VEC_LANES=16 set by the environment")
                           : (.eight, "DATA2VEC_LANES=16 set by the environment, but the CPU has no AVX-512")
        default:
            return hasWide ? (.sixteen, "the CPU has AVX-512") : (.eight, "the CPU has no AVX-512")
        }
        #endif
    }

    /// The width every lane kernel of this process uses, and why (decided on first use). A DATA2VEC_LANES
    /// value that is neither 8 nor 16 leaves eight lanes; the chapters and benchmarks stop on it at launch
    /// (`environmentError`).
    public static let choice: (width: LaneWidth, reason: String) = {
        let (width, reason) = decide(cpuFlags: KernelChoice.cpuFlags(), environmentValue: ProcessInfo.processInfo.environment["DATA2VEC_LANES"])
        return (width ?? .eight, reason)
    }()

    /// What is wrong with the environment's DATA2VEC_LANES and how to fix it, or nil when it is unset or valid.
    public static var environmentError: String? {
        decide(cpuFlags: [], environmentValue: ProcessInfo.processInfo.environment["DATA2VEC_LANES"]).width == nil ? choice.reason : nil
    }

    /// One line for the chapters' and benchmarks' headers.
    public static var report: String {
        choice.width == .sixteen ? "16 floats per instruction (AVX-512; \(choice.reason))"
                                 : "8 floats per instruction (AVX2; \(choice.reason))"
    }

    static var isWide: Bool { choice.width == .sixteen }
}

/// The lane kernels through the chosen copy: one branch per call, and a call is a whole pass over a chunk
/// of a tensor or a (sample, head) pair's rows.
enum Lane {
    static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        LaneWidth.isWide ? Wide.gelu(x, y, count: count) : LaneKernels.gelu(x, y, count: count)
    }

    static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, keepingCDF cdf: UnsafeMutablePointer<Float>, count: Int) {
        LaneWidth.isWide ? Wide.gelu(x, y, keepingCDF: cdf, count: count) : LaneKernels.gelu(x, y, keepingCDF: cdf, count: count)
    }

    static func geluGradient(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, cdf: UnsafePointer<Float>,
                             into dx: UnsafeMutablePointer<Float>, count: Int, accumulating: Bool) {
        if LaneWidth.isWide {
            Wide.geluGradient(x, g, cdf: cdf, into: dx, count: count, accumulating: accumulating)
        } else {
            LaneKernels.geluGradient(x, g, cdf: cdf, into: dx, count: count, accumulating: accumulating)
        }
    }

    static func softmaxColumns(_ scores: UnsafeMutablePointer<Float>, keys: Int, queries: Int, width: Int, keyBias: UnsafePointer<Float>) {
        if LaneWidth.isWide {
            Wide.softmaxColumns(scores, keys: keys, queries: queries, width: width, keyBias: keyBias)
        } else {
            LaneKernels.softmaxColumns(scores, keys: keys, queries: queries, width: width, keyBias: keyBias)
        }
    }

    static func softmaxGradientColumns(_ dScores: UnsafeMutablePointer<Float>, attention: UnsafePointer<Float>, keys: Int, width: Int) {
        if LaneWidth.isWide {
            Wide.softmaxGradientColumns(dScores, attention: attention, keys: keys, width: width)
        } else {
            LaneKernels.softmaxGradientColumns(dScores, attention: attention, keys: keys, width: width)
        }
    }
}
