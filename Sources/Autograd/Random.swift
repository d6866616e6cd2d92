// Seeded randomness. One generator feeds initialization, masking, shuffling and dropout, so a run is
// reproduced exactly by its seed and thread count (ThreadCountTests); the random numbers themselves are the
// same on any number of threads.
import Foundation

/// xoshiro256** (Blackman and Vigna, 2018), seeded through SplitMix64 so that nearby seeds give
/// unrelated streams. Fast, 256 bits of state, passes BigCrush; not for cryptography.
///
///     var rng = RandomGenerator(seed: 42)
///     let u = rng.uniform()            // [0, 1)
///     let z = rng.normal()             // N(0, 1)
///     let order = rng.permutation(10)  // a shuffled 0..<10
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is fixed by `seed` (the state is filled by SplitMix64).
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    @inline(__always) private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A generator for a sub-task (a data loader, a mask sampler) whose stream does not overlap this one.
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    /// Uniform in [0, 1), with 24 random bits (every representable step of a Float in [0.5, 1)).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform in [0, 1) as a Double (53 random bits).
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal sample, by the Box-Muller transform (one of the pair is used; simple and exact).
    public mutating func normal() -> Float {
        let u1 = 1 - uniformDouble()  // (0, 1]: log never sees 0
        let u2 = uniformDouble()
        return Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// N(mean, std^2).
    public mutating func normal(mean: Float, std: Float) -> Float { mean + std * normal() }

    /// An integer uniform in 0..<upperBound (unbiased).
    public mutating func int(below upperBound: Int) -> Int {
        require(upperBound > 0, "RandomGenerator.int(below:): upper bound must be positive, got \(upperBound)")
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// A uniformly shuffled 0..<count (Fisher-Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var values = Array(0..<count)
        shuffle(&values)
        return values
    }

    /// Shuffles in place (Fisher-Yates), using only this generator.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, int(below: i + 1))
        }
    }

    /// `count` distinct integers from 0..<population, in random order (NumPy's `choice(replace=False)`).
    ///
    /// A partial Fisher-Yates shuffle of 0..<population: draw i swaps position i with a random position
    /// in i..<population and takes the value that lands at i. Small populations (masks over a sequence)
    /// keep the array itself; large ones with few draws keep only the swapped positions. Both forms make
    /// the same draws and return the same values.
    public mutating func choose(_ count: Int, from population: Int) -> [Int] {
        require(count >= 0 && count <= population,
                     "RandomGenerator.choose: cannot draw \(count) distinct values from \(population)")
        if population <= 64 * Swift.max(count, 64) { return chooseFromArray(count, from: population) }
        return chooseSparsely(count, from: population)
    }

    /// `choose` over the whole array 0..<population: O(population) time and memory, no hashing.
    mutating func chooseFromArray(_ count: Int, from population: Int) -> [Int] {
        var values = Array(0..<population)
        for i in 0..<count { values.swapAt(i, i + int(below: population - i)) }
        return Array(values[..<count])
    }

    /// `choose` over a virtual array, stored sparsely (only the positions swapped so far): O(count) time
    /// and memory, each draw two dictionary lookups.
    mutating func chooseSparsely(_ count: Int, from population: Int) -> [Int] {
        var swapped: [Int: Int] = [:]
        var result: [Int] = []
        result.reserveCapacity(count)
        for i in 0..<count {
            let j = i + int(below: population - i)
            let valueAtJ = swapped[j] ?? j
            swapped[j] = swapped[i] ?? i
            result.append(valueAtJ)
        }
        return result
    }

    /// `count` draws from 0..<population with replacement.
    public mutating func choose(_ count: Int, from population: Int, replacement: Bool) -> [Int] {
        replacement ? (0..<count).map { _ in int(below: population) } : choose(count, from: population)
    }
}

extension UInt64 {
    /// A seed for one named part of a run, derived from the run's seed: `seed.derived("probe", 3)` is the seed
    /// of the fourth probe. Different purposes and indices give unrelated streams, and every part of a run can
    /// be reproduced alone, without running the parts before it. (FNV-1a of the purpose, mixed with the seed
    /// and the index by SplitMix64's finalizer.)
    ///
    /// ```swift
    /// var rng = RandomGenerator(seed: options.seed.derived("fine-tune", run))
    /// ```
    public func derived(_ purpose: String, _ index: Int = 0) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in purpose.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        var z = self ^ hash ^ (UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
