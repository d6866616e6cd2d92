// What two cores give two jobs that share nothing: a line of the benchmark's footer, one per configuration.
//
// With two threads the engine splits each step's work between the cores, and its rest (the step minus its
// products) is a larger share of the products than with one thread. Part of that is the splitting's own cost:
// the calling thread's work between regions, the wait for the other thread's last chunk. Part is the machine:
// two cores share the memory, the L3 cache and, on a VM, whatever the host shares between them. This check
// separates the two. It runs the same step as two independent jobs at once, one thread each
// (`Parallel.independentJobs`, as chapter 07 runs its two pretrainings), with no split and no wait for the
// other job's chunks, and compares them with one job alone and with the engine's own two-thread step, all in
// turns in one process, so that all three see the same minutes of a drifting machine.
import Autograd
import Foundation

enum TwoJobsCheck {
    /// One line for `config`: the step alone on one thread; two such steps at once, one thread each (each
    /// job's time, and its rest against its products); and the engine's step on two threads. Each variant
    /// runs `pairs` pairs of steps (one profiled for the time inside sgemm, one not for the time, the order
    /// alternating), its rest being the unprofiled time minus the profiled sgemm time, as in the table.
    static func report(_ config: BenchConfig, pairs: Int, warmup: Int) -> String {
        let alone = makeStep(config, seed: 1)
        let jobs = [makeStep(config, seed: 2), makeStep(config, seed: 3)]
        let split = makeStep(config, seed: 4)
        // Each variant runs one step's worth of work; `sgemmShare` turns the profile's total into one step's sgemm
        // time (the two jobs' products are summed over both threads, so halved).
        let variants: [(run: () -> Void, sgemmShare: Double)] = [
            ({ BLAS.withThreadCount(1) { _ = alone() } }, 1),  // one job alone
            ({ _ = BLAS.withThreadCount(2) { Parallel.independentJobs(2) { jobs[$0]() } } }, 0.5),  // two jobs at once
            ({ BLAS.withThreadCount(2) { _ = split() } }, 1),  // the engine's two-thread step
        ]
        for variant in variants { for _ in 0..<warmup { variant.run() } }
        var times = [[Double]](repeating: [], count: variants.count), rests = times
        for pair in 0..<pairs {
            for (index, variant) in variants.enumerated() {
                let timing = ProfiledPair(pair, variant.run)
                let sgemm = timing.sgemmMs * variant.sgemmShare
                times[index].append(timing.unprofiledMs)
                rests[index].append((timing.unprofiledMs - sgemm) / sgemm)
            }
        }
        let (alone1, jobs2, split2) = (median(times[0])!, median(times[1])!, median(times[2])!)
        return String(format: "two jobs check, %@ (medians of %d pairs): one step alone on one thread %.1f ms, rest %.0f%% of sgemm; "
                      + "two at once, one thread each, %.1f ms (%.2fx the step alone), rest %.0f%%; "
                      + "the engine's step on two threads %.1f ms (%.2fx two jobs' time per step), rest %.0f%%",
                      config.name, pairs, alone1, 100 * median(rests[0])!, jobs2, jobs2 / alone1, 100 * median(rests[1])!,
                      split2, split2 / (jobs2 / 2), 100 * median(rests[2])!)
    }
}
