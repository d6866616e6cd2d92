// Connected digit strings for speech recognition: spoken digits from FSDD joined with short gaps, so that
// a model must find where each digit is (CTC) rather than classify one clip.
import Autograd

/// A digit string: the clips it joins, the digits it says, and its waveform.
public struct DigitString: Sendable {
    /// The clips joined, in order.
    public var clips: [Int]
    /// The digits they say.
    public var digits: [Int]
    /// The joined samples, normalized as one utterance (zero mean, unit variance).
    public var samples: [Float]
}

extension SpokenDigits {
    /// Strings of 2-5 clips (6 when one would be left over) drawn from `clips` (each string's clips distinct), joined with gaps of 50-150 ms
    /// of low noise (std 0.01 of a clip's unit scale), reproducibly from `seed`. `passes` walks the clips that
    /// many times, each clip used once per pass, so every clip appears in `passes` strings.
    public func digitStrings(from clips: [Int], passes: Int = 1, seed: UInt64) -> [DigitString] {
        var rng = RandomGenerator(seed: seed)
        var strings: [DigitString] = []
        for _ in 0..<passes {
            var order = clips
            rng.shuffle(&order)
            var cursor = 0
            while cursor < order.count {
                var length = min(2 + rng.int(below: 4), order.count - cursor)
                if order.count - cursor - length == 1 { length += 1 }  // no clip left alone at the end of a pass
                let chosen = Array(order[cursor..<(cursor + length)])
                cursor += length
                var samples: [Float] = []
                for (k, clip) in chosen.enumerated() {
                    if k > 0 {
                        let gap = SpokenDigits.sampleRate / 20 + rng.int(below: SpokenDigits.sampleRate / 10 + 1)
                        samples += (0..<gap).map { _ in 0.01 * rng.normal() }
                    }
                    samples += self.clips[clip]
                }
                strings.append(DigitString(clips: chosen, digits: chosen.map { digits[$0] }, samples: normalized(samples)))
            }
        }
        return strings
    }
}

/// x with zero mean and unit variance (a constant signal stays at zero).
public func normalized(_ x: [Float]) -> [Float] {
    let mean = x.reduce(0, +) / Float(max(x.count, 1))
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(max(x.count, 1))
    let scale = 1 / max(variance.squareRoot(), 1e-5)
    return x.map { ($0 - mean) * scale }
}
