// Every matrix product of the engine goes through OpenBLAS's `cblas_sgemm`:
//     C <- alpha * op(A) * op(B) + beta * C,   op(X) = X or its transpose,
// with row-major storage. Hand-written Swift loops reach about a fifth of its speed (chapter 01).
import COpenBLAS
import Foundation

/// The matrix products of the engine (OpenBLAS's `cblas_sgemm`), its thread count and an optional profile.
public enum BLAS {
    /// Sets how many threads the engine uses: for the large products (split here, `splitProduct`) and for
    /// `Parallel`'s chunks. It defaults to OpenBLAS's own default (the number of cores, or OPENBLAS_NUM_THREADS).
    public static func setThreadCount(_ count: Int) {
        require(count >= 1, "BLAS.setThreadCount: need at least one thread, got \(count)")
        _ = ownsTheCores
        engineThreads = count
    }

    /// The number of threads the engine uses (`setThreadCount`).
    public static var threadCount: Int {
        _ = ownsTheCores
        return engineThreads
    }

    /// Runs `body` with `count` threads and then restores the previous count. Callers wait for each other
    /// (one process-wide lock), so two of them running at once, tests side by side for example, never change
    /// the count under each other while their bodies run.
    public static func withThreadCount<Result>(_ count: Int, _ body: () throws -> Result) rethrows -> Result {
        threadCountLock.lock()
        defer { threadCountLock.unlock() }
        let saved = threadCount
        setThreadCount(count)
        defer { setThreadCount(saved) }
        return try body()
    }
    private static let threadCountLock = NSRecursiveLock()

    // Who owns the cores. OpenBLAS keeps a pool of its own threads, and after each threaded product they
    // spin (calling sched_yield) for up to 2^28 cycles before they sleep. On two cores that spinning
    // competes with the engine's own threads (Parallel.swift: attention, GELU, LayerNorm), and a profile of
    // a two-thread vision-tiny step spent 24.8% of its samples in the scheduler and system calls
    // (trial log in the git history: `git log -- results/trials/profile-vision-tiny-2-before-f50fc2b.txt`). So OpenBLAS is told to use one
    // thread, always, and the engine splits a large product itself into one block of rows (or columns)
    // of C per thread, each a single-threaded sgemm on one of Parallel's threads: one pool owns the cores.
    nonisolated(unsafe) private static var engineThreads = 1
    private static let ownsTheCores: Void = {
        engineThreads = max(1, Int(openblas_get_num_threads()))
        openblas_set_num_threads(1)
    }()

    /// Products with m n k below this run whole on the calling thread: a block this small (2^20
    /// multiply-adds, about 20 us) is not worth a second call and a second packing of the shared operand.
    public static let splitThreshold = 1 << 20

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
        _ = ownsTheCores
        let start = profile.isEnabled ? DispatchTime.now().uptimeNanoseconds : 0
        let blocks = Parallel.isInsideRegion || m * n * k < splitThreshold ? 1 : engineThreads
        splitProduct(into: blocks, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        if profile.isEnabled {
            // Inside a region each thread times its own products; dividing by the threads gives wall time.
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(Parallel.regionThreads)
            profileLock.lock()
            defer { profileLock.unlock() }
            profile.calls += 1
            profile.seconds += seconds
            profile.flops += 2 * Double(m) * Double(n) * Double(k)
        }
    }

    /// The product as `blocks` blocks of 16-row (or 16-column) multiples of C, side by side on Parallel's
    /// threads: rows of C when it has at least as many rows as columns, else columns. Each block is a
    /// single-threaded sgemm of its rows of op(A) (or columns of op(B)) against all of the other operand.
    ///
    /// The cut is not free of rounding: OpenBLAS's optimized kernels (Haswell, SkylakeX) round an element
    /// of C differently depending on where its block's edges fall, so a product cut in two can differ from
    /// the whole in its last bits (only the generic kernels give the same bits). A run is deterministic
    /// for a given thread count; on another thread count its numbers can move in the last digits.
    static func splitProduct(
        into blocks: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let (ta, tb) = (transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans)
        let byRows = m >= n, size = byRows ? m : n
        let blocks = Swift.max(1, Swift.min(blocks, size / 16))
        // Block i of the size / 16 groups of 16 rows (or columns); the last block takes the remainder.
        func span(_ i: Int) -> Range<Int> {
            (i * (size / 16) / blocks) * 16 ..< (i == blocks - 1 ? size : ((i + 1) * (size / 16) / blocks) * 16)
        }
        Parallel.forEachChunk(of: blocks, chunks: Swift.min(blocks, engineThreads)) { chunk in
            for i in chunk {
                let part = span(i)
                if byRows {
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(part.count), Int32(n), Int32(k), alpha,
                                a + (transposeA ? part.lowerBound : part.lowerBound * lda), Int32(lda), b, Int32(ldb),
                                beta, c + part.lowerBound * ldc, Int32(ldc))
                } else {
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(part.count), Int32(k), alpha, a, Int32(lda),
                                b + (transposeB ? part.lowerBound * ldb : part.lowerBound), Int32(ldb),
                                beta, c + part.lowerBound, Int32(ldc))
                }
            }
        }
    }
}
