// Invariants of the graph: accumulation, no-grad scopes, detach, memory.
@testable import Autograd
import Foundation
import Testing

@Suite("Autograd graph")
struct GraphTests {
    @Test func gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        let x = Tensor([1, 2], requiresGradient: true)
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [6, 6])
        x.zeroGradient()
        (x * 3).sum().backward()
        #expect(x.grad!.scalars == [3, 3])
    }

    @Test func noGraphIsRecordedWithoutGradients() {
        let w = Tensor([1, 2], requiresGradient: true)
        let y = Tensor.withoutGradients { (w * 2).sum() }
        #expect(!y.requiresGradient)
        #expect(y.isLeaf)
        // Recording is back on outside the scope.
        #expect((w * 2).sum().requiresGradient)
    }

    @Test func detachedStopsGradients() {
        let x = Tensor([2], requiresGradient: true)
        let y = x * x.detached()  // d/dx = x.detached() = 2, not 2x = 4
        y.sum().backward()
        #expect(x.grad!.scalars == [2])
    }

    @Test func tensorUsedOnManyPathsGetsTheSumOfTheirGradients() {
        // f = x*y + x, d f/dx = y + 1
        let x = Tensor([3], requiresGradient: true), y = Tensor([5], requiresGradient: true)
        (x * y + x).sum().backward()
        #expect(x.grad!.scalars == [6])
        #expect(y.grad!.scalars == [3])
    }

    @Test func backwardReleasesTheGraph() {
        // After backward, no intermediate tensor is kept alive by the graph: a weak reference to an
        // intermediate result dies with the last strong one (no retain cycle through backward closures).
        let x = Tensor([1, 2, 3], requiresGradient: true)
        weak var intermediate: Tensor?
        do {
            let h = (x * 2).tanh()
            intermediate = h
            h.sum().backward()
        }
        #expect(intermediate == nil)
        #expect(x.grad != nil)
    }

    @Test func unusedGraphIsFreedWithoutBackward() {
        let x = Tensor([1, 2, 3], requiresGradient: true)
        weak var loss: Tensor?
        do {
            let l = ((x * x).exp() + x).sum()
            loss = l
        }
        #expect(loss == nil)
    }

    @Test func deepChainDoesNotOverflowTheStack() {
        // The topological sort is iterative: 20,000 chained ops are fine.
        let x = Tensor([1], requiresGradient: true)
        var y = x
        for _ in 0..<20_000 { y = y * 1.0 }
        y.sum().backward()
        #expect(x.grad!.scalars == [1])
    }

    @Test func shapeErrorsNameTheOpAndBothShapes() throws {
        #expect(throws: ShapeError("add: shapes [2, 3] and [4] cannot be broadcast together (axis 1 from the left of the aligned shapes: 3 vs 4)")) {
            try Broadcasting.shape([2, 3], [4], op: "add")
        }
        #expect(try Broadcasting.shape([2, 1, 5], [3, 1], op: "add") == [2, 3, 5])
        #expect(try Broadcasting.shape([], [4, 2], op: "add") == [4, 2])
    }

    @Test func mismatchedMatmulStopsWithAMessage() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
        }
    }

    /// A reshape hands its output's gradient buffer to an input that has none yet, and adds into one
    /// that has: the seed stays the caller's, and a second backward pass accumulates.
    @Test func reshapeHandsItsGradientOverOrAdds() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6], requiresGradient: true)
        let seed = Tensor([1, 2, 3, 4, 5, 6])
        x.reshaped([6]).backward(seed: seed)
        #expect(x.grad!.shape == [2, 3] && x.grad!.scalars == [1, 2, 3, 4, 5, 6])
        seed.storage.pointer[0] = 100
        #expect(x.grad!.scalars[0] == 1, "the gradient must not share the seed's storage")
        ((x.reshaped([3, 2]) * 2).sum() + x.reshaped([6, 1]).sum()).backward()  // adds 2 + 1 per element
        #expect(x.grad!.scalars == [4, 5, 6, 7, 8, 9])
    }

    /// a + b and a - b hand the output's gradient buffer to a when a has none yet and was not broadcast
    /// (da = g, no copy). b still gets its own buffer; x + x and x - x still come out as 2g and 0; a
    /// broadcast input gets the sums; an input that has a gradient adds to it.
    @Test func additionHandsItsGradientToItsFirstInput() {
        let x = Tensor(shape: [2, 2], [1, 2, 3, 4], requiresGradient: true)
        let y = Tensor(shape: [2, 2], [5, 6, 7, 8], requiresGradient: true)
        let seed = Tensor(shape: [2, 2], [1, 2, 3, 4])
        (x + y).backward(seed: seed)
        #expect(x.grad!.scalars == [1, 2, 3, 4] && y.grad!.scalars == [1, 2, 3, 4])
        x.grad!.storage.pointer[0] = 100
        #expect(y.grad!.scalars[0] == 1, "y's gradient must not share x's buffer")
        x.zeroGradient()
        y.zeroGradient()
        (x - y).backward(seed: seed)
        #expect(x.grad!.scalars == [1, 2, 3, 4] && y.grad!.scalars == [-1, -2, -3, -4])
        x.zeroGradient()
        (x + x).backward(seed: seed)
        #expect(x.grad!.scalars == [2, 4, 6, 8])
        x.zeroGradient()
        (x - x).backward(seed: seed)
        #expect(x.grad!.scalars == [0, 0, 0, 0])
        let row = Tensor(shape: [2], [1, 1], requiresGradient: true)
        (row + x).backward(seed: seed)  // row is broadcast over x's two rows: it gets the column sums
        #expect(row.grad!.scalars == [4, 6] && x.grad!.scalars == [1, 2, 3, 4])
        (x + y).sum().backward()  // x has a gradient now: 1 is added to it
        #expect(x.grad!.scalars == [2, 3, 4, 5])
    }

    /// GELU's backward writes x's gradient over the output's gradient when x has none yet, and adds to x's
    /// gradient when it has one: x.gelu() + x gives x the gradient GELU'(x) + 1, whichever way round.
    @Test func geluWritesOverItsOutputsGradientOrAdds() {
        let values: [Float] = [-1.5, -0.25, 0, 0.5, 2]
        // GELU'(v) = Phi(v) + v phi(v), in Double.
        let derivative = values.map { v -> Float in
            let v = Double(v)
            return Float(0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-v * v / 2) / (2 * Double.pi).squareRoot())
        }
        let x = Tensor(values, requiresGradient: true)
        x.gelu().sum().backward()
        #expect(zip(x.grad!.scalars, derivative).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
        for geluFirst in [true, false] {
            x.zeroGradient()
            (geluFirst ? x.gelu() + x : x + x.gelu()).sum().backward()
            #expect(zip(x.grad!.scalars, derivative).allSatisfy { Swift.abs($0 - ($1 + 1)) < 1e-6 })
        }
    }
}

@Suite("Random numbers")
struct RandomTests {
    @Test func sameSeedSameNumbers() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1)
        #expect(Tensor.normal([10], using: &r1).scalars == Tensor.normal([10], using: &r2).scalars)
    }

    @Test func distributionsHaveTheirMoments() {
        var rng = RandomGenerator(seed: 0)
        let n = 200_000
        let normals = (0..<n).map { _ in Double(rng.normal()) }
        let mean = normals.reduce(0, +) / Double(n)
        let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032; allow about 4 of them.
        #expect(Swift.abs(mean) < 0.01 && Swift.abs(variance - 1) < 0.015)
        let uniforms = (0..<n).map { _ in rng.uniform() }
        #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Swift.abs(uniforms.reduce(0, +) / Float(n) - 0.5) < 0.005)
    }

    @Test func truncatedNormalStaysInBounds() {
        var rng = RandomGenerator(seed: 5)
        let t = Tensor.truncatedNormal([10_000], std: 1, low: -2, high: 2, using: &rng)
        #expect(t.scalars.allSatisfy { $0 >= -2 && $0 <= 2 })
        #expect(t.scalars.contains { $0 < -1.9 } && t.scalars.contains { $0 > 1.9 })
    }

    @Test func chooseGivesDistinctValuesAndPermutationIsComplete() {
        var rng = RandomGenerator(seed: 9)
        let chosen = rng.choose(30, from: 50)
        #expect(Set(chosen).count == 30 && chosen.allSatisfy { (0..<50).contains($0) })
        #expect(rng.permutation(100).sorted() == Array(0..<100))
        // Every value is chosen about equally often: 20,000 draws of 1 from 4.
        var counts = [0, 0, 0, 0]
        for _ in 0..<20_000 { counts[rng.choose(1, from: 4)[0]] += 1 }
        #expect(counts.allSatisfy { Swift.abs($0 - 5000) < 300 })
    }

    /// `choose` keeps the whole array for small populations and only the swapped positions for large
    /// ones: the two forms must make the same draws, so a seed gives the same mask either way.
    @Test func chooseFromTheArrayEqualsChoosingSparsely() {
        for (count, population) in [(0, 0), (0, 5), (1, 1), (7, 7), (29, 49), (10, 64), (100, 5000), (3, 1_000_000)] {
            var dense = RandomGenerator(seed: UInt64(population)), sparse = dense
            #expect(dense.chooseFromArray(count, from: population) == sparse.chooseSparsely(count, from: population),
                    "choose \(count) from \(population)")
            #expect(dense.next() == sparse.next(), "the two forms used different numbers of draws")
        }
    }
}
