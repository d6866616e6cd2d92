// Every matrix product of the engine goes through OpenBLAS's `cblas_sgemm`:
//     C <- alpha * op(A) * op(B) + beta * C,   op(X) = X or its transpose,
// with row-major storage. Hand-written Swift loops reach about a fifth of its speed (chapter 01).
import COpenBLAS
import Foundation

/// The matrix products of the engine (OpenBLAS's `cblas_sgemm`), its thread count and an optional profile.
public enum BLAS {
    /// Sets the number of threads OpenBLAS uses for each product (it defaults to the number of cores).
    public static func setThreadCount(_ count: Int) {
        require(count >= 1, "BLAS.setThreadCount: need at least one thread, got \(count)")
        openblas_set_num_threads(Int32(count))
    }

    /// The number of threads OpenBLAS uses for each product (and `Parallel` for its chunks).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS chose for this CPU at run time (e.g. "Haswell", "Cooperlake").
    /// The environment variable OPENBLAS_CORETYPE overrides its choice.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Time and work spent inside `cblas_sgemm`, collected only while `isEnabled` (for benchmarks).
    public struct Profile {
        /// Whether `sgemm` is timing itself.
        public var isEnabled = false
        /// Products timed so far.
        public var calls = 0
        /// Seconds spent inside `cblas_sgemm`.
        public var seconds = 0.0
        /// Floating-point operations of the timed products (2 m n k each).
        public var flops = 0.0
        /// An empty profile, collecting when `isEnabled`.
        public init(isEnabled: Bool = false) { self.isEnabled = isEnabled }
    }

    /// The benchmark executables switch this on; it is process-wide. Updates take `profileLock`,
    /// because attention calls sgemm from several threads at once (Parallel.swift).
    nonisolated(unsafe) public static var profile = Profile()
    static let profileLock = NSLock()

    /// `C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C`, all row-major.
    ///
    /// - Parameters:
    ///   - transposeA: when true, A is stored as [k, m] and read transposed.
    ///   - lda, ldb, ldc: the row lengths (leading dimensions) of A, B and C as stored.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {  // an empty sum: C <- beta * C (BLAS implementations differ on this case)
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        let start = profile.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        if profile.isEnabled {
            profileLock.lock()
            defer { profileLock.unlock() }
            profile.calls += 1
            profile.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            profile.flops += 2 * Double(m) * Double(n) * Double(k)
        }
    }
}
