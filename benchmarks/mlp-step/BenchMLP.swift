import ArgumentParser
import Autograd
import Foundation

struct BenchMLP: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-mlp", abstract: "Time one MLP training step: sgemm vs the rest.")

    @Option(help: "Timed steps per thread count (after 20 warm-up steps).")
    var steps = 200

    @Option(parsing: .upToNextOption, help: "OpenBLAS thread counts to measure.")
    var threads: [Int] = [1, 2]

    func validate() throws {
        if let problem = LaneWidth.environmentError { throw ValidationError(problem) }
        guard steps >= 10 else { throw ValidationError("--steps must be at least 10, got \(steps)") }
        guard threads.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    func run() throws {
        print("bench-mlp: MLP 784-256-256-10, batch 256, softmax cross-entropy, SGD (lr 0.01)")
        print("OpenBLAS core \(BLAS.coreName); OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")
        print("OpenBLAS kernels: \(KernelChoice.report)")
        print("element kernels: \(LaneWidth.report)")
        print("threads  median ms/step  (min-max)       sgemm ms  rest ms  rest/sgemm  sgemm GFLOP/s  loss first->last")
        for threadCount in threads {
            BLAS.setThreadCount(threadCount)
            let result = measure(threads: threadCount)
            print(String(format: "%7d  %14.3f  (%.3f-%.3f)  %8.3f  %7.3f  %9.1f%%  %13.1f  %.3f->%.3f",
                         threadCount, result.median, result.min, result.max, result.sgemm, result.rest,
                         100 * result.rest / result.sgemm, result.gflops, result.firstLoss, result.lastLoss))
        }
    }

    struct Result { var median, min, max, sgemm, rest, gflops: Double; var firstLoss, lastLoss: Float }

    func measure(threads: Int) -> Result {
        var rng = RandomGenerator(seed: 0)
        let sizes = [784, 256, 256, 10], batch = 256
        var parameters: [Tensor] = []
        for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
            parameters.append(Tensor.normal([fanIn, fanOut], std: (2 / Float(fanIn)).squareRoot(), using: &rng, requiresGradient: true))
            parameters.append(Tensor.zeros([fanOut], requiresGradient: true))
        }
        // A fixed synthetic batch whose labels depend on the input, so the loss can fall.
        let x = Tensor.uniform([batch, 784], using: &rng)
        let labels = (0..<batch).map { row in Int(x[row, 0] * 9.99) }

        func step() -> Float {
            var h = x
            for layer in stride(from: 0, to: parameters.count, by: 2) {
                h = h.matmul(parameters[layer]) + parameters[layer + 1]
                if layer + 2 < parameters.count { h = h.relu() }
            }
            let loss = Tensor.softmaxCrossEntropy(logits: h, labels: labels)
            loss.backward()
            for p in parameters {  // p <- p - lr * grad
                let pp = p.storage.pointer, g = p.grad!.storage.pointer
                for i in 0..<p.count { pp[i] -= 0.01 * g[i] }
                p.zeroGradient()
            }
            return loss.item
        }

        let firstLoss = step()
        for _ in 0..<19 { _ = step() }
        var times: [Double] = []
        var lastLoss: Float = 0
        BLAS.profile = BLAS.Profile(isEnabled: true)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            lastLoss = step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-6)
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6
        let profile = BLAS.profile
        BLAS.profile = BLAS.Profile()
        times.sort()
        let sgemm = profile.seconds * 1e3 / Double(steps)
        let mean = total / Double(steps)
        return Result(median: times[times.count / 2], min: times.first!, max: times.last!, sgemm: sgemm, rest: mean - sgemm,
                      gflops: profile.flops / profile.seconds / 1e9, firstLoss: firstLoss, lastLoss: lastLoss)
    }
}
