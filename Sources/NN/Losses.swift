// Losses with explicit reductions.
import Autograd

/// How per-element losses become a loss.
public enum Reduction: Sendable {
    /// One value per element (same shape as the inputs).
    case none
    case sum
    case mean
}

extension Reduction {
    func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .none: x
        case .sum: x.sum()
        case .mean: x.mean()
        }
    }
}

/// Losses on tensors.
public enum Loss {
    /// Cross-entropy of `logits` [N, C] against class `labels` (N), mean over the rows whose label is
    /// not `ignoredLabel` (PyTorch's `ignore_index`, default -100 as there).
    public static func crossEntropy(logits: Tensor, labels: [Int], ignoredLabel: Int = -100) -> Tensor {
        Tensor.softmaxCrossEntropy(logits: logits, labels: labels, ignoredLabel: ignoredLabel)
    }

    /// Squared error (prediction - target)^2, reduced.
    public static func meanSquaredError(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        reduction.apply((prediction - target).squared())
    }

    /// Smooth L1 (Girshick, 2015), per element with d = prediction - target:
    ///     0.5 d^2 / beta    if |d| < beta
    ///     |d| - 0.5 beta    otherwise
    /// It is quadratic near 0 and linear far away, so outliers pull less than with L2.
    /// **beta = 0 means the squared error d^2** (fairseq data2vec's `loss_beta: 0` in `data2vec_audio.py`);
    /// note that PyTorch's `smooth_l1_loss` with beta 0 is the L1 loss instead.
    public static func smoothL1(_ prediction: Tensor, _ target: Tensor, beta: Float, reduction: Reduction = .mean) -> Tensor {
        require(beta >= 0, "smoothL1: beta must be >= 0, got \(beta)")
        if beta == 0 { return reduction.apply((prediction - target).squared()) }
        let perElement = Tensor.smoothL1(prediction, target, beta: beta)  // one op: Ops+SmoothL1.swift
        return reduction.apply(perElement)
    }
}
