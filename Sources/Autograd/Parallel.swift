// Splitting independent work across the cores.
//
// OpenBLAS threads each large product itself, but a batch of tiny products (attention's per-head
// 49 x 16 x 49 matrices) runs on one core: each call is below OpenBLAS's threading threshold. Such a
// batch is split here into one contiguous chunk per thread instead; each chunk calls sgemm, which then
// runs single-threaded in the calling thread (OpenBLAS allows concurrent calls from several threads).
import Dispatch

public enum Parallel {
    /// How many chunks `forEachChunk` splits `count` items into: one per thread, but none smaller than
    /// `minimumPerChunk` items (so tiny work stays on the calling thread).
    public static func chunkCount(of count: Int, minimumPerChunk: Int = 1) -> Int {
        Swift.max(1, Swift.min(BLAS.threadCount, count / Swift.max(1, minimumPerChunk)))
    }

    /// Calls `body(range)` on disjoint, contiguous ranges covering `0..<count`, one per thread, with up
    /// to `BLAS.threadCount` threads (the `--threads` setting). `body` must only write data that belongs
    /// to its own range. Runs inline when one thread is asked for or the work is tiny.
    public static func forEachChunk(of count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = chunkCount(of: count, minimumPerChunk: minimumPerChunk)
        if chunks == 1 { return body(0..<count) }
        // The chunks write disjoint data, which the compiler cannot see; hence the unchecked box.
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                work.value((chunk * count / chunks)..<((chunk + 1) * count / chunks))
            }
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
