// Connectionist temporal classification (Graves et al., 2006), the loss wav2vec 2.0 and data2vec
// fine-tune speech models with: the model emits, at each of T frames, a distribution over C symbols (a
// blank and the labels); a label sequence l of length L is the sum over every frame-level path that
// reads l once repeats are merged and blanks dropped ("33-5" and "3--55" both read "35").
//
// With l' = l with a blank before, between and after its labels (length S = 2L + 1), and y[t, c] the
// log-softmax of the logits, the forward variables (log space) are
//     alpha[0, 0] = y[0, blank],  alpha[0, 1] = y[0, l'1]
//     alpha[t, s] = y[t, l's] + logsumexp(alpha[t-1, s], alpha[t-1, s-1], alpha[t-1, s-2] when l's is not
//                   blank and differs from l's-2, i.e. a label may skip the blank between two different labels)
// and -log p(l | x) = -logsumexp(alpha[T-1, S-1], alpha[T-1, S-2]). The backward variables beta run the same
// recursion from the end. The gradient with respect to the logits is
//     d(-log p) / d logits[t, c] = softmax[t, c] - sum over s with l's = c of exp(alpha[t, s] + beta[t, s] - y[t, c] + log p)
// (beta includes the emission at t, so it is subtracted once). Computed in Double.
//
// Reduction, by default as fairseq computes it (`criterions/ctc.py`): each sequence's -log p summed over the
// batch (`reduction="sum"`) and divided by the number of sequences (the fine-tuning configs' `sentence_avg:
// true` makes the sample size the number of sentences), so every sequence weighs its whole loss. PyTorch's
// `ctc_loss(reduction="mean")` instead divides each sequence's loss by its target length first: for digit
// strings of 2-5 digits that is gradients about 3.5 times smaller. A target the frames cannot hold (T < L + repeats) has probability 0; as with
// `zero_infinity=True` (wav2vec 2.0's setting), its loss and gradient are set to 0.
import Foundation

/// How the CTC loss of a batch is reduced to one number.
public enum CTCReduction: Sendable {
    /// fairseq (`criterions/ctc.py` with `sentence_avg: true`): the mean over sequences of -log p(target).
    case meanOverSequences
    /// PyTorch's `reduction="mean"`: the mean over sequences of -log p(target) / target length.
    case meanPerTargetLabel
}

extension Tensor {
    /// CTC loss of `logits` [B, T, C] (unnormalized; log-softmax is applied inside) against label sequences.
    ///
    /// - Parameters:
    ///   - inputLengths: the valid frames of each sample (<= T).
    ///   - targets: each sample's labels, each in 1..<C (0 is the blank).
    ///   - reduction: fairseq's mean over sequences (the default) or PyTorch's per-label mean.
    /// - Returns: a scalar.
    public static func ctcLoss(logits: Tensor, inputLengths: [Int], targets: [[Int]], blank: Int = 0,
                               reduction: CTCReduction = .meanOverSequences) -> Tensor {
        guard logits.rank == 3, logits.shape[0] == targets.count, inputLengths.count == targets.count else {
            shapeFailure(ShapeError("ctcLoss: logits \(logits.shape) must be [B, T, C] with B = \(targets.count) targets and input lengths"))
        }
        let (b, t, c) = (logits.shape[0], logits.shape[1], logits.shape[2])
        for (i, target) in targets.enumerated() {
            require(inputLengths[i] >= 0 && inputLengths[i] <= t, "ctcLoss: input length \(inputLengths[i]) of sample \(i) is outside 0...\(t)")
            require(!target.isEmpty, "ctcLoss: sample \(i) has an empty target")
            require(target.allSatisfy { $0 >= 0 && $0 < c && $0 != blank }, "ctcLoss: sample \(i)'s labels must be in 0..<\(c) and not the blank \(blank)")
        }
        let x = logits.storage.pointer
        var total = 0.0
        // Per sample: the gradient of its (weighted) loss with respect to its logits.
        let gradient = TensorStorage(zeros: logits.count)
        for sample in 0..<b {
            let (loss, grad) = ctcSequence(x + sample * t * c, frames: inputLengths[sample], classes: c, target: targets[sample], blank: blank)
            guard loss.isFinite else { continue }  // zero_infinity
            let scale = reduction == .meanPerTargetLabel ? 1 / Double(targets[sample].count) : 1
            total += loss * scale
            let g = gradient.pointer + sample * t * c
            for i in 0..<(inputLengths[sample] * c) { g[i] = Float(grad[i] * scale / Double(b)) }
        }
        let value = TensorStorage(copying: [Float(total / Double(b))])
        return .result("ctcLoss", shape: [], storage: value, inputs: [logits]) { result in
            let upstream = result.grad!.storage.pointer[0]
            let dx = result.parents[0].gradientPointer()
            for i in 0..<gradient.count { dx[i] += upstream * gradient.pointer[i] }
        }
    }
}

/// -log p(target | frames) of one sequence, and its gradient with respect to the logits [frames, classes]
/// (row-major). Infinite when the target cannot fit in the frames.
func ctcSequence(_ logits: UnsafePointer<Float>, frames: Int, classes: Int, target: [Int], blank: Int) -> (loss: Double, gradient: [Double]) {
    let s = 2 * target.count + 1
    let extended = (0..<s).map { $0 % 2 == 0 ? blank : target[$0 / 2] }
    guard frames > 0 else { return (.infinity, []) }
    // Log-softmax of every frame.
    var y = [Double](repeating: 0, count: frames * classes)
    for f in 0..<frames {
        let row = logits + f * classes
        var maximum = -Double.infinity
        for k in 0..<classes { maximum = max(maximum, Double(row[k])) }
        var sum = 0.0
        for k in 0..<classes { sum += exp(Double(row[k]) - maximum) }
        let logSum = maximum + log(sum)
        for k in 0..<classes { y[f * classes + k] = Double(row[k]) - logSum }
    }
    func logAdd(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        return max(a, b) + log1p(exp(-abs(a - b)))
    }
    func canSkip(_ index: Int) -> Bool { index >= 2 && extended[index] != blank && extended[index] != extended[index - 2] }
    var alpha = [Double](repeating: -.infinity, count: frames * s)
    var beta = [Double](repeating: -.infinity, count: frames * s)
    alpha[0] = y[extended[0]]
    if s > 1 { alpha[1] = y[extended[1]] }
    for f in 1..<max(frames, 1) {
        for i in 0..<s {
            var sum = alpha[(f - 1) * s + i]
            if i >= 1 { sum = logAdd(sum, alpha[(f - 1) * s + i - 1]) }
            if canSkip(i) { sum = logAdd(sum, alpha[(f - 1) * s + i - 2]) }
            alpha[f * s + i] = sum + y[f * classes + extended[i]]
        }
    }
    let last = frames - 1
    beta[last * s + s - 1] = y[last * classes + extended[s - 1]]
    if s > 1 { beta[last * s + s - 2] = y[last * classes + extended[s - 2]] }
    for f in stride(from: frames - 2, through: 0, by: -1) {
        for i in 0..<s {
            var sum = beta[(f + 1) * s + i]
            if i + 1 < s { sum = logAdd(sum, beta[(f + 1) * s + i + 1]) }
            if i + 2 < s && canSkip(i + 2) { sum = logAdd(sum, beta[(f + 1) * s + i + 2]) }
            beta[f * s + i] = sum + y[f * classes + extended[i]]
        }
    }
    let logLikelihood = s > 1 ? logAdd(alpha[last * s + s - 1], alpha[last * s + s - 2]) : alpha[last * s]
    guard logLikelihood.isFinite else { return (.infinity, []) }
    var gradient = [Double](repeating: 0, count: frames * classes)
    for f in 0..<frames {
        for k in 0..<classes { gradient[f * classes + k] = exp(y[f * classes + k]) }
        for i in 0..<s where alpha[f * s + i] > -.infinity && beta[f * s + i] > -.infinity {
            let k = extended[i]
            gradient[f * classes + k] -= exp(alpha[f * s + i] + beta[f * s + i] - y[f * classes + k] - logLikelihood)
        }
    }
    return (-logLikelihood, gradient)
}
