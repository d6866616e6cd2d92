// Trial: what does opening a parallel region cost on two threads? Each region has two chunks of `work`
// microseconds of busy work; between regions the calling thread is busy for `gap` microseconds (the serial
// code between two ops of a training step). Timed per region, median and 90th percentile of 1,000, through
// Dispatch's `concurrentPerform` (what `Parallel.forEachChunk` used until commit 7741b8f) and through
// `Parallel.forEachChunk` (the engine's worker pool since). Built in a scratch package depending on this one.
import Autograd
import Dispatch
import Foundation
BLAS.setThreadCount(2)
func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func busy(_ microseconds: Int) { let start = now(); while now() - start < UInt64(microseconds * 1000) {} }
func measure(_ name: NSString, work: Int, gap: Int, _ region: (Int) -> Void) {
    var times: [Double] = []
    for _ in 0..<1000 {
        let start = now()
        region(work)
        times.append(Double(now() - start) / 1000)
        busy(gap)
    }
    times.sort()
    print(String(format: "%-26@ chunks of %3d us, gap %3d us: region median %6.1f us, p90 %6.1f us", name, work, gap, times[500], times[900]))
}
for work in [20, 100] {
    for gap in [5, 50, 500] {
        measure("Dispatch concurrentPerform" as NSString, work: work, gap: gap) { w in
            DispatchQueue.concurrentPerform(iterations: 2) { _ in busy(w) }
        }
        measure("Parallel.forEachChunk" as NSString, work: work, gap: gap) { w in
            Parallel.forEachChunk(of: 2, chunks: 2) { _ in busy(w) }
        }
    }
}
