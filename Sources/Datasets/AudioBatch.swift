// Batches of clips of different lengths: zero-padded to the batch's longest, with each clip's length.
import Autograd

/// Clips side by side: `samples` [B, L] with each row zero-padded after its `lengths[b]` real samples.
public struct AudioBatch {
    /// [B, L], zero-padded.
    public var samples: Tensor
    /// Each clip's samples before padding.
    public var lengths: [Int]

    /// A batch from padded samples and lengths.
    public init(samples: Tensor, lengths: [Int]) {
        require(samples.rank == 2 && samples.shape[0] == lengths.count && lengths.allSatisfy { $0 <= samples.shape[1] },
                     "AudioBatch: samples \(samples.shape) do not hold \(lengths.count) clips of lengths up to \(lengths.max() ?? 0)")
        self.samples = samples
        self.lengths = lengths
    }

    /// Clips (any lengths) zero-padded to the longest: [B, max length].
    public init(_ clips: [[Float]]) {
        let longest = clips.map(\.count).max() ?? 0
        var values = [Float](repeating: 0, count: clips.count * longest)
        for (b, clip) in clips.enumerated() { for (i, v) in clip.enumerated() { values[b * longest + i] = v } }
        self.init(samples: Tensor(shape: [clips.count, longest], values), lengths: clips.map(\.count))
    }
}

extension SpokenDigits {
    /// The clips at `indices` as a padded batch; clips longer than `maxLength` samples are cropped to a window
    /// of that length at a random offset (fairseq's `max_sample_size` crop).
    public func batch(_ indices: [Int], maxLength: Int? = nil, using rng: inout RandomGenerator) -> AudioBatch {
        AudioBatch(indices.map { i in
            let clip = clips[i]
            guard let maxLength, clip.count > maxLength else { return clip }
            let start = rng.int(below: clip.count - maxLength + 1)
            return Array(clip[start..<(start + maxLength)])
        })
    }
}
