// Optimizers and schedules: hand-derived steps, a PyTorch AdamW fixture, schedule shapes, clipping.
import Autograd
import Foundation
import NN
@testable import Optim
import Testing

@Suite("Optimizers")
struct OptimTests {
    @Test func sgdWithMomentumByHand() {
        // p = 1, g = 0.5 each step, lr 0.1, momentum 0.9:
        // step 1: v = 0.5, p = 1 - 0.05 = 0.95;  step 2: v = 0.9 * 0.5 + 0.5 = 0.95, p = 0.95 - 0.095 = 0.855.
        let p = Tensor([1], requiresGradient: true)
        let sgd = SGD([ParameterGroup([p])], learningRate: 0.1, momentum: 0.9)
        for _ in 0..<2 { p.grad = Tensor([0.5]); sgd.step() }
        #expect(abs(p.item - 0.855) < 1e-6)
    }

    @Test func adamWMatchesPyTorch() throws {
        // The reference comes from torch.optim.AdamW (Tests/NNTests/Fixtures/make_fixtures.py).
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("NNTests/Fixtures/fixtures.json")
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let f = (root["cases"] as! [String: Any])["adamw"] as! [String: Any]
        func values(_ key: String) -> [Float] { ((f[key] as! [String: Any])["values"] as! [Double]).map(Float.init) }
        let p = Tensor(values("start"), requiresGradient: true)
        let adam = AdamW([ParameterGroup([p], weightDecay: Float(f["weight_decay"] as! Double))], learningRate: Float(f["lr"] as! Double))
        p.grad = Tensor(values("grad1"))
        adam.step()
        #expect(zip(p.scalars, values("after1")).allSatisfy { abs($0 - $1) < 1e-6 })
        p.grad = Tensor(values("grad2"))
        adam.step()
        #expect(zip(p.scalars, values("after2")).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// The step runs eight lanes at a time, on one contiguous range of all the parameters per thread. It
    /// must give the very floats of the formula applied one element at a time: tensors of odd lengths (so
    /// ranges and lanes end mid-tensor), two groups, three steps, one thread and two.
    @Test(arguments: [1, 2])
    func adamWEqualsTheFormulaElementByElementExactly(threads: Int) {
        var rng = RandomGenerator(seed: 5)
        let shapes = [[70_001], [3], [257, 129]]
        let params = shapes.map { Tensor.normal($0, using: &rng, requiresGradient: true) }
        var expected = params.map(\.scalars)
        var (m, v) = (params.map { [Float](repeating: 0, count: $0.count) }, params.map { [Float](repeating: 0, count: $0.count) })
        let groups = [ParameterGroup([params[0], params[2]], weightDecay: 0.05), ParameterGroup([params[1]], weightDecay: 0)]
        let adam = AdamW(groups, learningRate: 3e-3, beta1: 0.9, beta2: 0.98, epsilon: 1e-6)
        for step in 1...3 {
            for p in params { p.grad = Tensor.normal(p.shape, std: 0.1, using: &rng) }
            let (c1, c2) = (1 - powf(0.9, Float(step)), 1 - powf(0.98, Float(step)))
            for (k, p) in params.enumerated() {
                let (lr, decay): (Float, Float) = (3e-3, k == 1 ? 1 : 1 - 3e-3 * 0.05)
                let g = p.grad!.scalars
                for i in g.indices {
                    expected[k][i] *= decay
                    m[k][i] = 0.9 * m[k][i] + (1 - 0.9) * g[i]
                    v[k][i] = 0.98 * v[k][i] + (1 - 0.98) * g[i] * g[i]
                    expected[k][i] -= lr * (m[k][i] / c1) / ((v[k][i] / c2).squareRoot() + 1e-6)
                }
            }
            BLAS.withThreadCount(threads) { adam.step() }
            for (k, p) in params.enumerated() {
                let got = p.scalars
                let first = got.indices.first { got[$0].bitPattern != expected[k][$0].bitPattern }
                #expect(first == nil, "step \(step), tensor \(k), element \(first ?? -1)")
            }
        }
    }

    @Test func adamWFirstStepMovesByTheLearningRate() {
        // At t = 1, m/(1-b1) = g and v/(1-b2) = g^2, so the step is lr * g / |g| = lr (sign of g), plus decay.
        let p = Tensor([2, -3], requiresGradient: true)
        let adam = AdamW([ParameterGroup([p], weightDecay: 0)], learningRate: 0.01)
        p.grad = Tensor([0.3, -7])
        adam.step()
        #expect(abs(p[0] - 1.99) < 1e-6 && abs(p[1] - -2.99) < 1e-6)
    }

    @Test func weightDecayGroupsExemptBiasesNormsAndPositions() {
        var rng = RandomGenerator(seed: 0)
        let named: [(name: String, tensor: Tensor)] = [
            ("fc.weight", Tensor.normal([3, 3], using: &rng)), ("fc.bias", Tensor.zeros([3])),
            ("norm.weight", Tensor.ones([3])), ("positions.weight", Tensor.normal([4, 3], using: &rng)),
        ]
        let groups = ParameterGroup.standard(named, weightDecay: 0.05)
        #expect(groups[0].parameters.count == 1 && groups[0].weightDecay == 0.05)
        #expect(groups[1].parameters.count == 3 && groups[1].weightDecay == 0)
    }

    @Test func adamWTrainsALinearRegression() {
        // y = 3x - 1 from 64 points: the loss must fall below 1e-4.
        var rng = RandomGenerator(seed: 1)
        let x = Tensor.uniform([64, 1], low: -1, high: 1, using: &rng)
        let y = x * 3 - 1
        let layer = Linear(1, 1, using: &rng)
        let adam = AdamW(ParameterGroup.standard(layer.namedParameters, weightDecay: 0), learningRate: 0.05)
        var loss: Float = 1
        for _ in 0..<500 {
            let l = Loss.meanSquaredError(layer(x), y)
            loss = l.item
            l.backward()
            adam.step()
            adam.zeroGradients()
        }
        #expect(loss < 1e-4)
        #expect(abs(layer.weight.item - 3) < 0.02 && abs(layer.bias!.item + 1) < 0.02)
    }

    @Test func clippingScalesToTheMaximumNorm() {
        let a = Tensor([0], requiresGradient: true), b = Tensor([0], requiresGradient: true)
        a.grad = Tensor([3])
        b.grad = Tensor([4])
        #expect(clipGradientNorm([a, b], maxNorm: 1) == 5)  // sqrt(9 + 16)
        #expect(abs(a.grad!.item - 0.6) < 1e-5 && abs(b.grad!.item - 0.8) < 1e-5)
        #expect(clipGradientNorm([a, b], maxNorm: 10) < 1.0001)  // below the maximum: unchanged
    }
}

@Suite("Schedules")
struct ScheduleTests {
    @Test func warmupCosine() {
        let s = WarmupCosineSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, minimum: 0.1)
        #expect(abs(s.learningRate(at: 0) - 0.1) < 1e-6)  // (0 + 1) / 10
        #expect(s.learningRate(at: 9) == 1)
        #expect(abs(s.learningRate(at: 60) - 0.55) < 1e-5)  // halfway: min + (peak - min) / 2
        #expect(abs(s.learningRate(at: 110) - 0.1) < 1e-6 && abs(s.learningRate(at: 500) - 0.1) < 1e-6)
    }

    @Test func triStage() {
        // 100 steps: 10 warm-up, 40 hold, 50 decay; from 0.01 * peak up, exponential down to 0.01 * peak.
        let s = TriStageSchedule(peak: 1, totalSteps: 100, phases: (0.1, 0.4, 0.5))
        #expect(abs(s.learningRate(at: 0) - 0.01) < 1e-6)
        #expect(abs(s.learningRate(at: 5) - 0.505) < 1e-6)
        #expect(s.learningRate(at: 10) == 1 && s.learningRate(at: 49) == 1)
        #expect(abs(s.learningRate(at: 75) - 0.1) < 1e-5)  // halfway through an exponential decay 1 -> 0.01
        #expect(abs(s.learningRate(at: 100) - 0.01) < 1e-6 && abs(s.learningRate(at: 1000) - 0.01) < 1e-6)
    }

    @Test func constant() { #expect(ConstantSchedule(0.3).learningRate(at: 1234) == 0.3) }
}
