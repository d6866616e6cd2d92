// Dropout and stochastic depth: multiply by a random mask of 0 and 1 / (1 - p).
//
// Inverted dropout (Srivastava et al., 2014, in the form every framework uses): in training, each element
// is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so the expected value is
// unchanged and evaluation needs no rescaling. Stochastic depth (Huang et al., 2016; timm's `DropPath`,
// which BEiT and data2vec vision use) drops a residual branch for a whole sample at once: the mask has
// one value per sample, broadcast over the sample's other axes.
//
// Both are `x * mask` with a mask that needs no gradient, so the multiply's backward gives
// dx = g * mask. The mask is drawn with one pointer loop (no closure per element).
extension Tensor {
    /// Inverted dropout: each element is kept with probability 1 - p and scaled by 1 / (1 - p), or zeroed.
    /// Same shape as `self`. `p` in [0, 1); p = 0 returns `self`.
    public func dropout(_ p: Float, using rng: inout RandomGenerator) -> Tensor {
        guard p > 0 else { return self }
        return self * Tensor.keepMask(shape: shape, dropProbability: p, using: &rng)
    }

    /// Stochastic depth ("drop path"): each sample (a slice along axis 0) is zeroed with probability p,
    /// the others scaled by 1 / (1 - p). Same shape as `self`. `p` in [0, 1); p = 0 returns `self`.
    public func dropSamples(_ p: Float, using rng: inout RandomGenerator) -> Tensor {
        guard p > 0, rank >= 1 else { return self }
        let perSample = [shape[0]] + [Int](repeating: 1, count: rank - 1)
        return self * Tensor.keepMask(shape: perSample, dropProbability: p, using: &rng)
    }

    /// A tensor of `shape` whose elements are 0 with probability p and 1 / (1 - p) otherwise.
    public static func keepMask(shape: [Int], dropProbability p: Float, using rng: inout RandomGenerator) -> Tensor {
        require(p >= 0 && p < 1, "dropout: the drop probability must be in [0, 1), got \(p)")
        let storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
        let scale = 1 / (1 - p), mask = storage.pointer
        for i in 0..<storage.count { mask[i] = rng.uniform() < p ? 0 : scale }
        return Tensor(shape: shape, storage: storage, operation: "dropoutMask")
    }
}
