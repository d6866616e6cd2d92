// How fast this machine stores to memory, with one thread and with two: the benchmark's last line.
//
// Part of the engine's own work in a step ("rest") is passes that mostly store: the bias that starts each
// linear layer's output, GELU writing its output and Phi, LayerNorm's backward. The student keeps every
// activation for its backward pass (a vision-tiny step peaks at 118 MiB; the AMD VM's L3 cache holds 32),
// so these passes mostly store to memory that is not in the cache, and on x86 a store to such a line
// first reads the line from memory. Their speed is the memory's, not the core's: a second core adds only
// what the memory has to spare, while the products, which work in the cache, nearly double. This check
// times that kind of pass, so a benchmark log shows what the machine allows the two-thread rest.
import Autograd
import Dispatch
import Foundation

enum MemoryCheck {
    /// One line: the rate of SIMD stores to memory not in the cache and to memory in the cache (1 MiB per
    /// thread, within each core's L2, written 64 times a pass), with one thread and with `threads`,
    /// each the median of 15 passes.
    static func report(threads: Int) -> String {
        let coldBytes = 32 << 20, hotBytesPerThread = 1 << 20
        // 256 MiB, eight times the L3 cache: the passes go round its eight slices, so the slice a pass writes
        // was last written seven passes (224 MiB) ago and has left the cache.
        let slices = 8, sliceFloats = coldBytes / 4
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: slices * sliceFloats)
        defer { memory.deallocate() }
        memory.initialize(repeating: 1, count: slices * sliceFloats)  // every page mapped before timing
        var slice = 0
        func rate(threads: Int, cold: Bool) -> Double {
            // In the cache, each thread writes its 1 MiB 64 times a pass (half a millisecond), so that starting
            // the threads (a few microseconds, more when a worker has gone to sleep) does not count.
            let floats = cold ? sliceFloats : threads * hotBytesPerThread / 4, repeats = cold ? 1 : 64
            var rates: [Double] = []
            BLAS.withThreadCount(threads) {
                for pass in 0..<16 {
                    let start = cold ? memory + slice * sliceFloats : memory
                    slice = (slice + 1) % slices
                    let begin = DispatchTime.now().uptimeNanoseconds
                    Parallel.forEachChunk(of: floats, chunks: threads) { range in
                        for _ in 0..<repeats { store(Float(pass), into: start + range.lowerBound, count: range.count) }
                    }
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - begin) * 1e-9
                    if pass > 0 { rates.append(Double(floats * 4 * repeats) / seconds / 1e9) }  // the first pass warms up
                }
            }
            return median(rates)!
        }
        let (cold1, hot1) = (rate(threads: 1, cold: true), rate(threads: 1, cold: false))
        let (coldN, hotN) = (rate(threads: threads, cold: true), rate(threads: threads, cold: false))
        return String(format: "memory check: storing to memory not in the cache at %.0f GB/s with 1 thread, %.0f with %d (%.2fx); "
                      + "to memory in the cache (1 MiB per thread) at %.0f and %.0f (%.2fx); medians of 15 passes",
                      cold1, coldN, threads, coldN / cold1, hot1, hotN, hotN / hot1)
    }

    /// p[0..<count] = value, sixteen floats per store.
    @inline(never)
    static func store(_ value: Float, into p: UnsafeMutablePointer<Float>, count: Int) {
        let lanes = SIMD16<Float>(repeating: value)
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(p + i).storeBytes(of: lanes, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { p[i] = value; i += 1 }
    }
}
