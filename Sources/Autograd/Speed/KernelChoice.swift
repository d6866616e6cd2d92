// Which OpenBLAS kernels run, chosen so that a user never has to think about it.
//
// OpenBLAS (built with DYNAMIC_ARCH, as Debian ships it) picks its kernels once, when the library is
// loaded, from the CPU it recognizes. A version older than the CPU does not recognize it and falls back to
// a generic kernel family ("Prescott": SSE3 only), 3-5x slower than the family the CPU can run. The
// environment variable OPENBLAS_CORETYPE overrides the choice, but only if it is set before the library
// loads, that is, before `main` runs. So `KernelChoice.applyAtLaunch()`, the first line of every chapter
// and benchmark, does this:
//
//   1. OPENBLAS_CORETYPE set by the environment  -> keep it (some machines set it because other kernels
//      compute wrong results there); nothing else happens;
//   2. unset, and OpenBLAS reports a generic family on a CPU whose flags show AVX-512 (SkylakeX's subsets)
//      or AVX2 + FMA (Haswell)  -> set OPENBLAS_CORETYPE to that family and re-execute the same program
//      once, with the same arguments (`execv` of /proc/self/exe), so the new process loads OpenBLAS with it;
//   3. in that new process, a short self-test compares sgemm with a plain loop (a few shapes, both
//      transposes, beta 0 and 1). If it fails, the process re-executes once more with the family OpenBLAS
//      first reported, and the chapter header says why.
//
// The decision is the pure function `KernelChoice.decide`, tested without any of this machinery.
// `swift test` never calls `applyAtLaunch`: the tests run with whatever the environment selects.
import COpenBLAS
import Foundation

/// Which OpenBLAS kernels run, chosen at launch (see the top of this file).
public enum KernelChoice {
    /// The kernel families OpenBLAS falls back to when it does not recognize the CPU: generic SSE-era cores.
    public static let genericCores: Set<String> = [
        "Prescott", "Core2", "Katmai", "Banias", "Northwood", "Atom", "Penryn", "Dunnington", "Nehalem", "Barcelona", "Opteron",
    ]

    /// The AVX-512 subsets OpenBLAS's SkylakeX kernels use.
    public static let skylakeXFlags: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"]
    /// What the Haswell kernels need.
    public static let haswellFlags: Set<String> = ["avx2", "fma"]

    /// What to do at launch, and why.
    public enum Decision: Equatable, Sendable {
        /// Keep the kernels OpenBLAS loaded; `reason` says why (environment value, recognized CPU, ...).
        case keep(reason: String)
        /// Re-execute with OPENBLAS_CORETYPE = `core`.
        case use(core: String, reason: String)
    }

    /// The pure decision: CPU flags (as /proc/cpuinfo lists them) x the family OpenBLAS reported x the
    /// environment's OPENBLAS_CORETYPE -> keep, or use a family.
    ///
    /// ```swift
    /// KernelChoice.decide(cpuFlags: ["avx2", "fma"], reportedCore: "Prescott", environmentValue: nil)
    /// // .use(core: "Haswell", reason: "...")
    /// ```
    public static func decide(cpuFlags: Set<String>, reportedCore: String, environmentValue: String?) -> Decision {
        if let environmentValue, !environmentValue.isEmpty {
            return .keep(reason: "OPENBLAS_CORETYPE=\(environmentValue) set by the environment")
        }
        guard genericCores.contains(reportedCore) else {
            return .keep(reason: "OpenBLAS recognized this CPU")
        }
        if skylakeXFlags.isSubset(of: cpuFlags) {
            return .use(core: "SkylakeX", reason: "OpenBLAS fell back to its generic \(reportedCore) kernels on a CPU with AVX-512")
        }
        if haswellFlags.isSubset(of: cpuFlags) {
            return .use(core: "Haswell", reason: "OpenBLAS fell back to its generic \(reportedCore) kernels on a CPU with AVX2 + FMA")
        }
        return .keep(reason: "the CPU has neither AVX2 + FMA nor AVX-512, so \(reportedCore) is the right family")
    }

    /// The CPU's feature flags from /proc/cpuinfo (empty where that file does not exist, as on macOS).
    public static func cpuFlags(cpuInfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuInfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Name of the variable that tells a re-executed process that the project chose its kernels:
    /// "<chosen>:<reported>" or "failed:<reported>:<why>".
    static let markerVariable = "DATA2VEC_OPENBLAS_CHOICE"

    /// One line for the chapters' and benchmarks' headers: the kernels that run and how they were chosen.
    /// Set by `applyAtLaunch`; without it (tests, a library user) it describes what OpenBLAS loaded.
    nonisolated(unsafe) public private(set) static var report = "\(BLAS.coreName) (not checked: KernelChoice.applyAtLaunch() did not run)"

    /// Chooses the kernels at launch (see the top of this file). Call it first in `main`, before
    /// anything else touches OpenBLAS; it may replace the process with a new one and never returns then.
    public static func applyAtLaunch() {
        #if os(Linux)
        let environment = ProcessInfo.processInfo.environment
        let reported = BLAS.coreName
        if let marker = environment[markerVariable] {
            let parts = marker.split(separator: ":", maxSplits: 2).map(String.init)
            if parts.first == "failed" {
                report = "\(reported) (the project tried \(parts.count > 2 ? parts[2] : "another family"), but it failed the sgemm self-test, so the generic kernels stay)"
                return
            }
            let original = parts.count > 1 ? parts[1] : "generic"
            if let failure = selfTestFailure() {
                reexecute(setting: original, marker: "failed:\(original):\(reported) (\(failure))")
                report = "\(reported): it failed the sgemm self-test (\(failure)) and re-executing with \(original) failed too"
                return
            }
            report = "\(reported), chosen by the project (OpenBLAS fell back to its generic \(original) kernels on this CPU; sgemm self-test passed; set OPENBLAS_CORETYPE to choose yourself)"
            return
        }
        switch decide(cpuFlags: cpuFlags(), reportedCore: reported, environmentValue: environment["OPENBLAS_CORETYPE"]) {
        case .keep(let reason):
            report = "\(reported) (\(reason))"
        case .use(let core, let reason):
            reexecute(setting: core, marker: "\(core):\(reported)")
            report = "\(reported) (\(reason), but re-executing with OPENBLAS_CORETYPE=\(core) failed: \(String(cString: strerror(errno))))"
        }
        #else
        report = "\(BLAS.coreName)"
        #endif
    }

    #if os(Linux)
    /// Replaces this process with the same program and arguments, with OPENBLAS_CORETYPE = `core`.
    /// Returns only if `execv` failed.
    private static func reexecute(setting core: String, marker: String) {
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(markerVariable, marker, 1)
        fflush(nil)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(markerVariable)
    }
    #endif

    /// Compares `BLAS.sgemm` with a plain triple loop on a few shapes (small and blocked, both transposes,
    /// beta 0 and 1). Returns a description of the first mismatch, or nil when every product agrees.
    public static func selfTestFailure() -> String? {
        var rng = RandomGenerator(seed: 12345)
        let shapes = [(1, 1, 1), (7, 5, 3), (49, 16, 49), (64, 96, 33), (130, 70, 200)]
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for beta: Float in [0, 1] {
                        let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
                        let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
                        let c0 = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
                        var c = c0
                        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
                        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &c, ldc: n)
                        for i in 0..<m {
                            for j in 0..<n {
                                var sum: Double = 0
                                for p in 0..<k {
                                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                                    sum += Double(x) * Double(y)
                                }
                                let expected = 0.5 * sum + Double(beta) * Double(c0[i * n + j])
                                if abs(Double(c[i * n + j]) - expected) > 1e-4 * (1 + Double(k)) {
                                    return "\(m)x\(n)x\(k), transposes \(transposeA)/\(transposeB), beta \(beta): got \(c[i * n + j]) at [\(i), \(j)], expected \(expected)"
                                }
                            }
                        }
                    }
                }
            }
        }
        return nil
    }
}
