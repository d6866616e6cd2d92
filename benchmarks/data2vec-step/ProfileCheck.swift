// What the benchmark's profile costs: the time it adds to each matrix product it times.
//
// The profile reads the clock twice and takes a lock around every call to `BLAS.sgemm`, thousands per step.
// The table's "rest ms" leaves that cost out (an unprofiled step beside each profiled one); the rest measured
// inside the profiled step, which the footer also prints, counts it. This check times a 4 x 4 x 4 product,
// whose call is nearly all overhead, 200,000 times with the profile off and as many with it on; the
// difference per call, multiplied by a step's calls (the log prints both), is what the profile adds to a
// one-thread step.
import Autograd
import Dispatch
import Foundation

enum ProfileCheck {
    /// The profile's cost per product call in nanoseconds, one thread: the median of three rounds, each
    /// the time per call with the profile on minus the time with it off.
    static func nanosecondsPerCall() -> Double {
        let a = [Float](repeating: 1, count: 16), b = [Float](repeating: 1, count: 16)
        var c = [Float](repeating: 0, count: 16)
        let calls = 200_000
        var differences: [Double] = []
        BLAS.withThreadCount(1) {
            for _ in 0..<3 {
                var perCall = (off: 0.0, on: 0.0)
                for isEnabled in [false, true] {
                    BLAS.profile = BLAS.Profile(isEnabled: isEnabled)
                    let start = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<calls {
                        BLAS.sgemm(transposeA: false, transposeB: true, m: 4, n: 4, k: 4, a: a, lda: 4, b: b, ldb: 4, beta: 0, c: &c, ldc: 4)
                    }
                    let nanoseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls)
                    if isEnabled { perCall.on = nanoseconds } else { perCall.off = nanoseconds }
                }
                differences.append(perCall.on - perCall.off)
            }
        }
        BLAS.profile = BLAS.Profile()
        return median(differences)!
    }
}
