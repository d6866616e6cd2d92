// The threads behind `Parallel.forEachChunk`: workers that wait for the next region by spinning, briefly,
// instead of sleeping.
//
// A training step opens a few hundred parallel regions (each split product, GELU, LayerNorm, attention's
// heads), one after another, a few microseconds to a millisecond apart. Dispatch's `concurrentPerform`
// lets its worker threads sleep between them, and waking a sleeping thread costs a system call on one side
// and a trip through the scheduler on the other: on a 2-core AMD EPYC VM, a region of two 20-us chunks
// took 45-70 us (median of 1,000) through `concurrentPerform`, against 20.4 us here while the worker spins
// (trial log in the git history: `git log -- results/trials/region-wakeup.txt`).
// OpenMP runtimes, which PyTorch's CPU kernels use, do the same: a worker spins for a while (GOMP_SPINCOUNT)
// before it sleeps. A worker here spins for `spinNanoseconds` after its last chunk, then sleeps on a
// condition until the next region wakes it.
//
// One region at a time: the caller that finds the pool busy (another thread's region, for example tests
// running side by side) runs its chunks through `concurrentPerform` instead.
import Dispatch
import Foundation
import Synchronization

/// Worker threads (started when first needed, kept for the life of the process) that run the chunks of one
/// region at a time together with the calling thread.
final class WorkerPool: @unchecked Sendable {
    /// How long a worker keeps checking for the next region before it sleeps: longer than most gaps between
    /// the regions of a training step, short enough that an idle worker gives its core back at once in
    /// human terms.
    static let spinNanoseconds: UInt64 = 1_000_000

    /// The pool of the process. It starts workers as regions need them: `chunks - 1` for a region of
    /// `chunks` (the caller runs chunks too), at most `BLAS.threadCount - 1` through `Parallel`.
    static let shared = WorkerPool()

    /// The region being run, in one word so that a worker reads it and claims a chunk in one atomic step:
    /// bits 32... a serial number (new for every region, so a worker late from the previous region cannot
    /// claim a chunk of this one by accident), bits 16..<32 the number of chunks, bits 0..<16 the next
    /// chunk to claim. The region has chunks left while that index is below the count.
    private let region = Atomic<Int>(0)
    /// Chunks of the current region done so far (by the caller and the workers).
    private let finishedChunks = Atomic<Int>(0)
    /// Workers sleeping (or about to) on `wakeUp`.
    private let sleepers = Atomic<Int>(0)
    /// Whether a caller is running a region now.
    private let isBusy = Atomic<Bool>(false)
    /// The current region's work: chunk index -> Void. Written before `region` is published, read after a
    /// chunk of it is claimed.
    nonisolated(unsafe) private var work: ((Int) -> Void)?
    private let wakeUp = NSCondition()
    /// Workers started so far (read and written only by the caller holding the pool).
    nonisolated(unsafe) private var workerCount = 0

    /// Runs `body(chunk)` for every chunk in 0..<chunks, on the calling thread and the workers, and returns
    /// when all are done. Each chunk runs exactly once; which thread runs it is not fixed.
    func run(chunks: Int, _ body: (Int) -> Void) {
        precondition(chunks < 1 << 16, "WorkerPool: too many chunks (\(chunks))")
        guard isBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            // Another thread's region is running: let Dispatch's threads take this one.
            // The chunks write disjoint data, which the compiler cannot see; hence the unchecked box.
            return withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: chunks) { work.value($0) }
            }
        }
        defer { isBusy.store(false, ordering: .releasing) }
        ensureWorkers(chunks - 1)
        withoutActuallyEscaping(body) { body in
            work = body
            finishedChunks.store(0, ordering: .relaxed)
            let serial = (region.load(ordering: .relaxed) >> 32) &+ 1
            region.store(serial << 32 | chunks << 16, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
            runChunks()
            while finishedChunks.load(ordering: .acquiring) < chunks {}
            work = nil
        }
    }

    /// Claims and runs chunks of the current region until none is left.
    private func runChunks() {
        var word = region.load(ordering: .acquiring)
        while true {
            let (count, next) = ((word >> 16) & 0xFFFF, word & 0xFFFF)
            guard next < count else { return }
            let (claimed, current) = region.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            guard claimed else { word = current; continue }
            work!(next)
            finishedChunks.add(1, ordering: .releasing)
            word = region.load(ordering: .acquiring)
        }
    }

    /// Whether the current region has a chunk nobody has claimed yet.
    private var hasUnclaimedChunk: Bool {
        let word = region.load(ordering: .sequentiallyConsistent)
        return word & 0xFFFF < (word >> 16) & 0xFFFF
    }

    /// Starts workers until there are `wanted`. Only the caller holding the pool (`isBusy`) gets here.
    private func ensureWorkers(_ wanted: Int) {
        while workerCount < wanted {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "data2vec-worker-\(workerCount + 1)"
            thread.start()
            workerCount += 1
        }
    }

    private func workerLoop() {
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            var checks = 0
            while !hasUnclaimedChunk {
                checks += 1
                // Read the clock every 64 checks only: the check is a load, the clock a few dozen cycles.
                if checks & 63 == 0, DispatchTime.now().uptimeNanoseconds - start > Self.spinNanoseconds {
                    sleepUntilWork()
                }
            }
            runChunks()
        }
    }

    /// Sleeps on `wakeUp` until a region has chunks to claim. The caller publishes the region before it
    /// reads `sleepers`, and a worker counts itself a sleeper before it looks at the region (both
    /// sequentially consistent), so either the caller sees the sleeper and broadcasts, or the worker sees
    /// the region and does not sleep.
    private func sleepUntilWork() {
        wakeUp.lock()
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while !hasUnclaimedChunk { wakeUp.wait() }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        wakeUp.unlock()
    }
}
