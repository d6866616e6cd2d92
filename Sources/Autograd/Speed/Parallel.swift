// Splitting independent work across the cores.
//
// One pool owns the cores: the engine's own workers (WorkerPool.swift), through `forEachChunk`. OpenBLAS
// is kept to one thread (BLAS.swift says why); a large product is cut into blocks of rows of C, one per
// thread, and a batch of tiny products (attention's per-head 49 x 16 x 49 matrices) into contiguous chunks
// of pairs; each chunk calls sgemm, which runs single-threaded in the calling thread (OpenBLAS allows
// concurrent calls from several threads). Work already inside a chunk is never split again: the cores are
// busy. `independentJobs` (whole training runs side by side) uses Dispatch's threads.
import Dispatch
import Foundation

/// Splitting work across the cores: chunks of one computation, or independent jobs side by side.
public enum Parallel {
    /// How many chunks `forEachChunk` splits `count` items into: one per thread, but none smaller than
    /// `minimumPerChunk` items (so tiny work stays on the calling thread).
    public static func chunkCount(of count: Int, minimumPerChunk: Int = 1) -> Int {
        Swift.max(1, Swift.min(BLAS.threadCount, count / Swift.max(1, minimumPerChunk)))
    }

    /// Calls `body(range)` on disjoint, contiguous ranges covering `0..<count`, one per thread, with up
    /// to `BLAS.threadCount` threads (the `--threads` setting). `body` must only write data that belongs
    /// to its own range. Runs inline when one thread is asked for or the work is tiny.
    @inline(__always)
    public static func forEachChunk(of count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        forEachChunk(of: count, chunks: chunkCount(of: count, minimumPerChunk: minimumPerChunk), body)
    }

    /// Calls `body(range)` on `chunks` disjoint, contiguous ranges covering `0..<count`, side by side.
    /// Inside another region (a chunk's body) it runs inline: the cores are already busy.
    @inline(__always)
    public static func forEachChunk(of count: Int, chunks: Int, _ body: (Range<Int>) -> Void) {
        if chunks <= 1 || isInsideRegion { return body(0..<count) }
        WorkerPool.shared.run(chunks: chunks) { chunk in
            pthread_setspecific(regionKey, UnsafeRawPointer(bitPattern: chunks))
            defer { pthread_setspecific(regionKey, nil) }
            body((chunk * count / chunks)..<((chunk + 1) * count / chunks))
        }
    }

    /// On how many threads the region that runs the calling thread's current chunk is split (1 outside any
    /// region). Each thread marks itself while it runs a chunk (a thread-specific value, so work of other
    /// threads, such as tests running side by side, does not count).
    public static var regionThreads: Int {
        Swift.max(1, Int(bitPattern: pthread_getspecific(regionKey)))
    }

    /// Whether the calling thread is running a `forEachChunk` chunk (its work must not be split again).
    public static var isInsideRegion: Bool { pthread_getspecific(regionKey) != nil }
}

private let regionKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key, nil)
    precondition(status == 0, "Parallel: pthread_key_create failed (\(status))")
    return key
}()

/// A value handed to other threads that the compiler cannot prove safe to share (the caller's promise).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension Parallel {
    /// The job counter lanes share.
    final class NextJob {
        private var next = 0
        private let lock = NSLock()
        func claim(below count: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
    }

    /// Runs `count` independent jobs side by side, as many at once as there are threads (`BLAS.threadCount`),
    /// each with single-threaded matrix products, and returns their results in job order.
    ///
    /// Two separate training runs on two cores get much more done than one run whose products are split in
    /// two: measured on vision-tiny fine-tuning, 51-62 ms per step of throughput against 85-91 ms. Each job
    /// must own everything it mutates (its model, its generator); with one thread the jobs run one by one.
    public static func independentJobs<Result>(_ count: Int, _ job: (Int) -> Result) -> [Result] {
        let threads = BLAS.threadCount
        guard threads > 1, count > 1 else { return (0..<count).map(job) }
        let results = UnsafeMutableBufferPointer<Result?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        BLAS.withThreadCount(1) {
            withoutActuallyEscaping(job) { job in
                let work = UncheckedSendable(job), slots = UncheckedSendable(results)
                // Each lane takes the next job not yet taken, so a long job does not hold up the jobs behind it.
                // Which lane runs a job does not change its result: every job owns its model and generator.
                let next = UncheckedSendable(NextJob())
                DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
                    while let index = next.value.claim(below: count) { slots.value[index] = work.value(index) }
                }
            }
        }
        return results.map { $0! }
    }
}
