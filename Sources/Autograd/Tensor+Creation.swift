// Making tensors: constants, ranges, and seeded random initializations.

extension Tensor {
    /// A tensor of `shape` filled with 0.
    public static func zeros(_ shape: [Int], requiresGradient: Bool = false) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(zeros: shape.reduce(1, *)), requiresGradient: requiresGradient)
    }

    /// A tensor of `shape` filled with 1.
    public static func ones(_ shape: [Int], requiresGradient: Bool = false) -> Tensor {
        full(shape, 1, requiresGradient: requiresGradient)
    }

    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float, requiresGradient: Bool = false) -> Tensor {
        let storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
        storage.pointer.initialize(repeating: value, count: storage.count)
        return Tensor(shape: shape, storage: storage, requiresGradient: requiresGradient)
    }

    /// `start, start + step, ...` up to but excluding `end`, as a 1-D tensor (NumPy's `arange`).
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) -> Tensor {
        require(step != 0, "arange: step must not be 0")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }

    /// `0, 1, ..., count - 1`.
    public static func arange(_ count: Int) -> Tensor { arange(0, Float(count)) }

    /// Elements drawn from `sample`, in row-major order.
    static func sampled(_ shape: [Int], requiresGradient: Bool, _ sample: () -> Float) -> Tensor {
        let storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
        for i in 0..<storage.count { storage.pointer[i] = sample() }
        return Tensor(shape: shape, storage: storage, requiresGradient: requiresGradient)
    }

    /// Uniform in [low, high).
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator, requiresGradient: Bool = false
    ) -> Tensor {
        sampled(shape, requiresGradient: requiresGradient) { rng.uniform(low, high) }
    }

    /// Normal with the given mean and standard deviation.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator, requiresGradient: Bool = false
    ) -> Tensor {
        sampled(shape, requiresGradient: requiresGradient) { rng.normal(mean: mean, std: std) }
    }

    /// Normal(mean, std) restricted to [low, high] by rejection, the convention of PyTorch's
    /// `trunc_normal_` and timm (used for ViT/BEiT weights: std 0.02, bounds +-2 in absolute units).
    /// Note that the bounds are absolute values, not multiples of `std`, exactly as in PyTorch.
    public static func truncatedNormal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, low: Float = -2, high: Float = 2,
        using rng: inout RandomGenerator, requiresGradient: Bool = false
    ) -> Tensor {
        require(low < high, "truncatedNormal: low \(low) must be below high \(high)")
        require(mean + 3 * std > low && mean - 3 * std < high,
                     "truncatedNormal: [\(low), \(high)] is too far from N(\(mean), \(std)^2) for rejection sampling")
        return sampled(shape, requiresGradient: requiresGradient) {
            while true {
                let z = rng.normal(mean: mean, std: std)
                if z >= low && z <= high { return z }
            }
        }
    }
}
