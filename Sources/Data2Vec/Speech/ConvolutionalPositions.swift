// The convolutional positional encoder of wav2vec 2.0 / data2vec speech (fairseq wav2vec2.py
// `TransformerEncoder` with `pos_conv_depth` > 1): positions are not a table but a function of the
// neighbourhood, learned by grouped convolutions over time:
//
//   pos(x) = depth x [Conv1d(D, D, k, padding k/2, groups G) -> LayerNorm without affine -> GELU]
//   output = x + pos(x)
//
// data2vec speech uses 5 layers of kernel 19 with 16 groups on 20 ms frames (receptive field 91 frames,
// 1.8 s). "Same" padding keeps the length (fairseq's `SamePad` removes one frame when k is even; here k must
// be odd). Padded frames are zeroed before the convolutions, as `extract_features` does, and here again before
// each later one: fairseq zeroes them once, so after a LayerNorm and GELU the padding is no longer zero and
// the next convolution carries it into the last frames of a shorter clip.
import Autograd
import NN

/// x [B, T, D] -> x + pos(x), [B, T, D].
public final class ConvolutionalPositions: Module {
    /// Grouped Conv1d(D, D) layers with same-length padding.
    public let convolutions: [Conv1d]
    /// LayerNorm without affine parameters after each convolution.
    public let norms: [LayerNorm]
    /// Training mode (dropout and the like active) or evaluation mode; set a whole tree with `train()` / `eval()`.
    public var isTraining = true

    /// - Parameters:
    ///   - depth: the number of convolutions; `kernel`: odd; `groups`: divides D.
    public init(dimension: Int, depth: Int, kernel: Int, groups: Int, using rng: inout RandomGenerator) {
        require(kernel % 2 == 1, "ConvolutionalPositions: the kernel must be odd for same-length padding, got \(kernel)")
        convolutions = (0..<depth).map { _ in
            Conv1d(dimension, dimension, kernelSize: kernel, padding: kernel / 2, groups: groups, using: &rng)
        }
        norms = (0..<depth).map { _ in LayerNorm(dimension, affine: false) }
    }

    /// The child modules, by name (the prefixes of `namedParameters`).
    public var submodules: [(name: String, module: any Module)] {
        convolutions.enumerated().map { ("convolutions.\($0.offset)", $0.element as any Module) }
            + norms.enumerated().map { ("norms.\($0.offset)", $0.element as any Module) }
    }

    /// x [B, T, D] -> x + pos(x). `validLengths`: frames past a sample's length are zeroed before every
    /// convolution, so a clip's output does not depend on the padding of the batch it is in.
    public func callAsFunction(_ x: Tensor, validLengths: [Int]? = nil) -> Tensor {
        let zeroed = { (h: Tensor) in validLengths.map { zeroPadding(h, validLengths: $0) } ?? h }
        let input = zeroed(x)
        guard !convolutions.isEmpty else { return input }
        var h = input
        for (index, (convolution, norm)) in zip(convolutions, norms).enumerated() {
            if index > 0 { h = zeroed(h) }
            h = norm(convolution(h.transposed(1, 2)).transposed(1, 2)).gelu()  // [B, T, D] -> [B, D, T] -> conv -> [B, T, D]
        }
        return input + h
    }
}

/// x [B, T, D] with the frames at and after `validLengths[b]` set to zero (a product with a 0/1 mask).
public func zeroPadding(_ x: Tensor, validLengths: [Int]) -> Tensor {
    let (b, t) = (x.shape[0], x.shape[1])
    guard validLengths.contains(where: { $0 < t }) else { return x }
    let keep = Tensor(shape: [b, t, 1], (0..<b).flatMap { s in (0..<t).map { $0 < validLengths[s] ? Float(1) : 0 } })
    return x * keep
}
