// The fused Smooth L1 op: values and gradients by hand, and the same bits as the six ops it replaces.
import Autograd
import Testing

@Suite("Smooth L1 as one op")
struct SmoothL1Tests {
    /// beta 2, d = prediction - target = [1, -3, 2, 0]:
    ///   d = 1:  quadratic, 0.5 * 1 / 2 = 0.25,   gradient d / beta = 0.5
    ///   d = -3: linear, 3 - 1 = 2,               gradient sign(d) = -1
    ///   d = 2:  |d| = beta is linear, 2 - 1 = 1, gradient 1 (both branches agree at the joint)
    ///   d = 0:  quadratic, 0,                    gradient 0
    /// Seeded with ones, the target's gradient is the negative.
    @Test func valuesAndGradientsByHand() {
        let prediction = Tensor([1, -3, 5, 4], requiresGradient: true)
        let target = Tensor([0, 0, 3, 4], requiresGradient: true)
        let loss = Tensor.smoothL1(prediction, target, beta: 2)
        #expect(loss.scalars == [0.25, 2, 1, 0])
        loss.backward(seed: Tensor.ones([4]))
        #expect(prediction.grad!.scalars == [0.5, -1, 1, 0])
        #expect(target.grad!.scalars == [-0.5, 1, -1, 0])
    }

    /// The loss as it was written before it became one op: subtract, abs, square, scale, shift, where.
    private func composed(_ prediction: Tensor, _ target: Tensor, beta: Float) -> Tensor {
        let d = prediction - target
        let isQuadratic = Tensor(shape: d.shape, d.scalars.map { Swift.abs($0) < beta ? Float(1) : 0 })
        return Tensor.where(isQuadratic, d.squared() * (0.5 / beta), d.abs() - 0.5 * beta)
    }

    /// Forward values and both gradients equal the composition's bit for bit, on both branches and at
    /// |d| = beta (betas that are not powers of two, where a differently ordered gradient would round
    /// differently), with a gradient arriving from a sum over channels and a mean (the data2vec loss), and
    /// added to a gradient the prediction already holds.
    @Test func sameBitsAsTheComposition() {
        for beta: Float in [0.3, 2, 3] {
            var rng = RandomGenerator(seed: 11)
            let p = Tensor.normal([37, 24], std: beta, using: &rng), t = Tensor.normal([37, 24], std: beta, using: &rng)
            p.storage.pointer[5] = t.storage.pointer[5] + beta  // exactly on the joint
            var results: [(loss: [Float], dp: [Float], dt: [Float])] = []
            for fused in [true, false] {
                let (prediction, target) = (p.detached(), t.detached())
                prediction.requiresGradient = true
                target.requiresGradient = true
                let perElement = fused ? Tensor.smoothL1(prediction, target, beta: beta) : composed(prediction, target, beta: beta)
                let loss = perElement.sum(alongAxes: [1]).mean() * 0.125 + prediction.sum() * 0.5
                loss.backward()
                results.append((perElement.scalars, prediction.grad!.scalars, target.grad!.scalars))
            }
            // Elements whose bits differ (a count, so that a failure prints one number).
            func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
            #expect(differing(results[0].loss, results[1].loss) == 0, "beta \(beta): values")
            #expect(differing(results[0].dp, results[1].dp) == 0, "beta \(beta): d prediction")
            #expect(differing(results[0].dt, results[1].dt) == 0, "beta \(beta): d target")
        }
    }
}
