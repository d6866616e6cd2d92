import ArgumentParser
import Autograd
import Foundation

/// One measured (config, threads) run: what both the Swift and the PyTorch side print as a JSON line.
struct Measurement: Codable {
    var config: String
    var threads: Int
    var medianMs, minMs, maxMs: Double
    var gflopsPerStep: Double
    var peakRSSMiB: Double
    var firstLoss, lastLoss: Double
    var sgemmMs: Double?  // Swift only: time inside cblas_sgemm per step (median over the profiled steps)
    var restMs: Double?   // Swift only: the rest of the step (median over pairs of unprofiled step - profiled step's sgemm)
    var restInProfiledStepMs: Double?  // Swift only: median of profiled step - its sgemm (the profile's cost included)
    var sgemmCalls: Int?
    var profiledMs: Double?  // Swift only: the whole step in the profiled pass (median), to show what profiling costs
    var timesMs: [Double]?  // every timed step, so that rounds can be pooled
}

/// One pair of runs of the same work: one with the sgemm profile on, giving the time inside sgemm, and one
/// with it off, giving the time without the profile's own cost; pair number `index` decides which goes first,
/// so that over many pairs neither always runs in the other's wake. The profile is off afterwards.
struct ProfiledPair {
    var sgemmMs = 0.0, profiledMs = 0.0, unprofiledMs = 0.0
    var calls = 0

    init(_ index: Int, _ run: () -> Void) {
        for isProfiled in index % 2 == 0 ? [true, false] : [false, true] {
            BLAS.profile = BLAS.Profile(isEnabled: isProfiled)
            let start = DispatchTime.now().uptimeNanoseconds
            run()
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6
            if isProfiled {
                (sgemmMs, profiledMs, calls) = (BLAS.profile.seconds * 1e3, milliseconds, BLAS.profile.calls)
            } else {
                unprofiledMs = milliseconds
            }
        }
        BLAS.profile = BLAS.Profile()
    }
}

/// The middle value (the upper of the two middle ones for an even count), as every median of the log is read;
/// nil for no values.
func median(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.sorted()[values.count / 2] }

extension Measurement {
    /// One measurement from several rounds of the same (config, threads): the step times pooled (median,
    /// min, max over all of them), the peak memory the largest, sgemm and rest the median of the rounds'.
    init(pooling rounds: [Measurement]) {
        let times = rounds.flatMap { $0.timesMs ?? [$0.medianMs] }.sorted()
        self.init(config: rounds[0].config, threads: rounds[0].threads, medianMs: times[times.count / 2], minMs: times[0],
                  maxMs: times[times.count - 1], gflopsPerStep: rounds[0].gflopsPerStep,
                  peakRSSMiB: rounds.map(\.peakRSSMiB).max()!, firstLoss: rounds[0].firstLoss, lastLoss: rounds[rounds.count - 1].lastLoss,
                  sgemmMs: median(rounds.compactMap(\.sgemmMs)), restMs: median(rounds.compactMap(\.restMs)),
                  restInProfiledStepMs: median(rounds.compactMap(\.restInProfiledStepMs)),
                  sgemmCalls: rounds[0].sgemmCalls, profiledMs: median(rounds.compactMap(\.profiledMs)), timesMs: times)
    }
}

struct BenchData2Vec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-data2vec",
        abstract: "Time the data2vec training step on vision-tiny, vision-small and text-tiny, beside PyTorch.",
        discussion: """
        Without --config, runs every (config, threads) pair in its own process (so peak memory is per
        configuration), alternating with the PyTorch script on the same pair when `<python> -c "import torch"`
        works, and prints one table with the ratio Swift/PyTorch. The timed steps are split into rounds,
        Swift and PyTorch taking turns, and pooled: on a machine whose speed drifts from minute to minute
        (a shared VM), both sides then see the same slow and fast minutes.
        """)

    @Option(help: "Run only this configuration in this process (vision-tiny, vision-small, text-tiny).")
    var config: String?
    @Option(parsing: .upToNextOption, help: "Configurations for the table.")
    var configs = BenchConfig.all.map(\.name)
    @Option(parsing: .upToNextOption, help: "Thread counts (OpenBLAS and the engine's own).")
    var threads: [Int] = [1, 2]
    @Option(help: "Timed steps (after the warm-up).")
    var steps = 50
    @Option(help: "Warm-up steps (in every round).")
    var warmup = 5
    @Option(help: "Rounds per (config, threads): Swift and PyTorch take turns, each timing steps / rounds steps a round (default: 5, at most --steps).")
    var rounds: Int?

    /// The rounds of the table run: as asked, else 5 (fewer when fewer steps are asked for).
    var roundCount: Int { rounds ?? min(5, steps) }
    @Option(help: "The Python that runs benchmarks/pytorch/data2vec_step.py; skipped when it cannot import torch.")
    var python = "python3"
    @Flag(help: "Print the measurement as one JSON line (used by the table run).")
    var json = false

    func validate() throws {
        if let problem = LaneWidth.environmentError { throw ValidationError(problem) }
        let names = BenchConfig.all.map(\.name)
        for name in configs + (config.map { [$0] } ?? []) where !names.contains(name) {
            throw ValidationError("unknown configuration '\(name)'; choose from \(names.joined(separator: ", "))")
        }
        guard steps >= 1, warmup >= 0 else { throw ValidationError("--steps must be at least 1 and --warmup at least 0") }
        if let rounds, !(1...steps).contains(rounds) {
            throw ValidationError("--rounds must be between 1 and --steps (\(steps)), got \(rounds)")
        }
        guard threads.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    func run() throws {
        if let config {
            let result = measure(BenchConfig.all.first { $0.name == config }!, threads: threads[0])
            if json { print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self)) } else { printRow(result, pytorch: nil) }
            return
        }
        printHeader()
        let torch = pytorchAvailable()
        if !torch { print("PyTorch: `\(python) -c \"import torch\"` failed, so only Swift runs (make bench PYTHON=/path/to/venv/bin/python)") }
        print("config        thr  median ms (min-max)        GFLOP/s  sgemm ms  rest ms  rest/sgemm  peak MiB | PyTorch ms (min-max)      peak MiB | ratio time  ratio mem")
        var speedups: [String] = [], roundRatios: [String] = [], profileCosts: [String] = []
        var callCounts: [(config: String, calls: Int)] = []
        let stepsPerRound = (steps + roundCount - 1) / roundCount
        for name in configs {
            var oneThread: (swift: Double, pytorch: Double?)?
            for threadCount in threads {
                var swiftRounds: [Measurement] = [], torchRounds: [Measurement] = []
                for _ in 0..<roundCount {
                    swiftRounds.append(try child([CommandLine.arguments[0], "--config", name, "--threads", "\(threadCount)",
                                                  "--steps", "\(stepsPerRound)", "--rounds", "1", "--warmup", "\(warmup)", "--json"]))
                    if torch, let round = try? child([python, "benchmarks/pytorch/data2vec_step.py", "--config", name, "--threads",
                                                      "\(threadCount)", "--steps", "\(stepsPerRound)", "--warmup", "\(warmup)"]) {
                        torchRounds.append(round)
                    }
                }
                let swift = Measurement(pooling: swiftRounds)
                let reference = torchRounds.isEmpty ? nil : Measurement(pooling: torchRounds)
                printRow(swift, pytorch: reference)
                if let calls = swift.sgemmCalls, threadCount == threads.first { callCounts.append((name, calls)) }
                if let profiled = swift.profiledMs, let restInside = swift.restInProfiledStepMs, let sgemm = swift.sgemmMs {
                    profileCosts.append(String(format: "%@ %d thr: %.1f against %.1f, rest %.1f (%.0f%%)", name, threadCount, profiled,
                                               swift.medianMs, restInside, 100 * restInside / sgemm))
                }
                if torchRounds.count == swiftRounds.count {
                    let ratios = zip(swiftRounds, torchRounds).map { String(format: "%.2f", $0.medianMs / $1.medianMs) }
                    roundRatios.append("\(name) \(threadCount) thr: " + ratios.joined(separator: " "))
                }
                if threadCount == 1 { oneThread = (swift.medianMs, reference?.medianMs) }
                if threadCount > 1, let oneThread {
                    var line = String(format: "%@ with %d threads: Swift %.2fx", name, threadCount, oneThread.swift / swift.medianMs)
                    if let before = oneThread.pytorch, let after = reference?.medianMs { line += String(format: ", PyTorch %.2fx", before / after) }
                    speedups.append(line)
                }
            }
        }
        if !roundRatios.isEmpty { print("ratio time by round (each round's Swift median / PyTorch median): " + roundRatios.joined(separator: "; ")) }
        if !speedups.isEmpty { print("speed-up over one thread (median / median): " + speedups.joined(separator: "; ")) }
        if !profileCosts.isEmpty {
            print("profiled step ms (where sgemm is measured) against timed step ms (medians), and the rest measured inside the "
                  + "profiled step (its time minus its sgemm time, so the profile's own cost counted as rest): "
                  + profileCosts.joined(separator: "; "))
        }
        if !callCounts.isEmpty {
            // The same calls whatever the thread count: products are split inside BLAS.sgemm, below the profile.
            let cost = ProfileCheck.nanosecondsPerCall()
            print("sgemm calls per step: " + callCounts.map { "\($0.config) \($0.calls)" }.joined(separator: "; ")
                  + String(format: "; the profile adds %.0f ns to each (a 4x4x4 product, one thread, median of 3 x 200,000 calls), ", cost)
                  + "so about " + callCounts.map { String(format: "%.2f ms", Double($0.calls) * cost * 1e-6) }.joined(separator: ", ")
                  + " of a one-thread step's rest is the profile's own")
        }
        // Last, after every child: their trainers and 256 MiB would otherwise count in every later child's peak
        // memory (Linux keeps ru_maxrss across fork and exec).
        if ProcessInfo.processInfo.activeProcessorCount >= 2 {
            for name in configs {
                print(TwoJobsCheck.report(BenchConfig.all.first { $0.name == name }!, pairs: min(steps, 10), warmup: warmup))
            }
        }
        print(MemoryCheck.report(threads: max(2, threads.max() ?? 2)))
    }

    /// The machine's state, for reading the table: a cloud VM's speed can change from minute to minute.
    /// One thread, a product of the vision-small FFN's shape (3136 x 1024 x 256), hot in cache, 20 times.
    func machineCheck() -> String {
        let (m, n, k) = (3136, 1024, 256)
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: n * k)
        var c = [Float](repeating: 0, count: m * n)
        var rates: [Double] = []
        BLAS.withThreadCount(1) {
            for _ in 0..<20 {
                let start = DispatchTime.now().uptimeNanoseconds
                BLAS.sgemm(transposeA: false, transposeB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, beta: 0, c: &c, ldc: n)
                rates.append(2 * Double(m * n * k) / Double(DispatchTime.now().uptimeNanoseconds - start))
            }
        }
        rates.sort()
        return String(format: "machine check: one-thread sgemm 3136x1024x256 at %.0f GFLOP/s (median of 20; min %.0f, max %.0f)",
                      rates[10], rates[0], rates[19])
    }

    func printHeader() {
        print("bench-data2vec: one data2vec training step (student + EMA teacher + loss + backward + AdamW + EMA)")
        print("OpenBLAS \(BLAS.coreName) kernels; OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"); \(ProcessInfo.processInfo.activeProcessorCount) cores; \(roundCount) rounds of \(warmup) warm-up + \((steps + roundCount - 1) / roundCount) timed steps, Swift and PyTorch taking turns")
        print("OpenBLAS kernels: \(KernelChoice.report)")
        print("element kernels: \(LaneWidth.report)")
        print(machineCheck())
    }

    func printRow(_ s: Measurement, pytorch p: Measurement?) {
        var line = s.config.padding(toLength: 12, withPad: " ", startingAt: 0)
            + String(format: "  %3d  %7.1f (%6.1f-%6.1f)  %7.1f  %8.1f  %7.1f  %9.0f%%  %8.0f", s.threads,
                          s.medianMs, s.minMs, s.maxMs, s.gflopsPerStep / s.medianMs * 1e3, s.sgemmMs ?? .nan,
                          s.restMs ?? .nan, 100 * (s.restMs ?? .nan) / (s.sgemmMs ?? .nan), s.peakRSSMiB)
        if let p {
            line += String(format: " | %7.1f (%6.1f-%6.1f)  %8.0f | %10.2f  %9.2f", p.medianMs, p.minMs, p.maxMs, p.peakRSSMiB,
                           s.medianMs / p.medianMs, s.peakRSSMiB / p.peakRSSMiB)
        } else {
            line += " |        -                       - |          -          -"
        }
        print(line)
    }

    /// Warm-up, then `steps` individually timed steps; sgemm time from a separate profiled pass.
    func measure(_ config: BenchConfig, threads: Int) -> Measurement {
        BLAS.setThreadCount(threads)
        let step = makeStep(config, seed: 0)
        let firstLoss = step()
        for _ in 0..<warmup { _ = step() }
        var times: [Double] = []
        var lastLoss: Float = 0
        for _ in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            lastLoss = step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6)
        }
        // The profile reads the clock twice and takes a lock around each product (thousands per step), so it is
        // measured apart from the timed steps, in pairs of steps: one profiled, giving the time inside sgemm,
        // and one not, beside it (the order alternating), giving the step's time without the profile's own
        // cost. The rest of a pair is the unprofiled step minus the profiled step's sgemm time; each is
        // reported as its median. (The profiled step minus its own sgemm time, which counts what the profile
        // costs as rest, is kept too, for the log.)
        let profiledSteps = max(1, min(steps, 20))
        var sgemmTimes: [Double] = [], restTimes: [Double] = [], restsInProfiledSteps: [Double] = [], profiledTimes: [Double] = []
        var calls = 0
        for pair in 0..<profiledSteps {
            let timing = ProfiledPair(pair) { _ = step() }
            calls = timing.calls
            sgemmTimes.append(timing.sgemmMs)
            restTimes.append(timing.unprofiledMs - timing.sgemmMs)
            restsInProfiledSteps.append(timing.profiledMs - timing.sgemmMs)
            profiledTimes.append(timing.profiledMs)
        }
        times.sort()
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Measurement(config: config.name, threads: threads, medianMs: times[times.count / 2], minMs: times.first!,
                           maxMs: times.last!, gflopsPerStep: config.flopsPerStep / 1e9, peakRSSMiB: Double(usage.ru_maxrss) / 1024,
                           firstLoss: Double(firstLoss), lastLoss: Double(lastLoss),
                           sgemmMs: median(sgemmTimes), restMs: median(restTimes),
                           restInProfiledStepMs: median(restsInProfiledSteps), sgemmCalls: calls,
                           profiledMs: median(profiledTimes), timesMs: times)
    }

    func pytorchAvailable() -> Bool {
        (try? child([python, "-c", "import torch; print('{}')"], decode: false)) != nil
    }

    /// Runs a process and decodes the last line of its output as a Measurement.
    @discardableResult
    func child(_ arguments: [String], decode: Bool = true) throws -> Measurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = decode ? FileHandle.standardError : FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
        let lastLine = String(decoding: output, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        if !decode { return Measurement(config: "", threads: 0, medianMs: 0, minMs: 0, maxMs: 0, gflopsPerStep: 0, peakRSSMiB: 0, firstLoss: 0, lastLoss: 0) }
        return try JSONDecoder().decode(Measurement.self, from: Data(lastLine.utf8))
    }
}
