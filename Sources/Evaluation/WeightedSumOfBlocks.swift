// SUPERB's way of reading a frozen encoder (Yang et al., 2021, section 3; s3prl's `Featurizer`): not one block
// chosen by hand but a learned weighted sum of every block's features, the weights a softmax over one learned
// number per block, trained together with the task's head. Here the head is multinomial logistic regression,
// and weights and classifier are fitted together by L-BFGS:
//
//   x_i = sum_l s_l x_il,   s = softmax(a)
//   minimize over a [L], W [K, F], b [K]:   (1/N) sum_i -log softmax(W x_i + b)[y_i]  +  ||W||^2 / (2 C N)
//
// The same loss and penalty as `LogisticRegression` (a, like the intercepts, is not penalized), so with one
// block the two agree. Unlike it the problem is not convex in (a, W) together: it starts from equal weights.
import Autograd
import COpenBLAS
import Foundation
import Optim

/// A logistic regression on a learned softmax-weighted sum of several views of the same examples (one per
/// encoder block, each [N, F] with the same F).
public struct WeightedBlockRegression: Sendable {
    /// s = softmax(a): the weight of each block, summing to 1.
    public let blockWeights: [Double]
    /// [K, F] row-major, and [K].
    public let weights: [Double], intercepts: [Double]
    /// K and F.
    public let classCount: Int, featureCount: Int
    /// L-BFGS iterations taken, and whether it converged.
    public let iterations: Int, converged: Bool

    /// Fits block weights and classifier to `blocks` (L tensors [N, F], row i of each the same example) and
    /// their labels in 0..<classCount; `c` is scikit-learn's C.
    public init(blocks: [Tensor], labels: [Int], classCount: Int, inverseRegularization c: Double = 1, solver: LBFGS = LBFGS()) {
        require(!blocks.isEmpty && blocks.allSatisfy { $0.rank == 2 && $0.shape == blocks[0].shape } && blocks[0].shape[0] == labels.count && !labels.isEmpty,
                "WeightedBlockRegression: every block must be [N, F] with the same shape and N = \(labels.count) labels, got \(blocks.map(\.shape))")
        require(labels.allSatisfy { (0..<classCount).contains($0) }, "WeightedBlockRegression: a label is outside 0..<\(classCount)")
        require(c > 0, "WeightedBlockRegression: C must be positive, got \(c)")
        let (l, n, f, k) = (blocks.count, labels.count, blocks[0].shape[1], classCount)
        let x = blocks.map { $0.scalars.map(Double.init) }  // L x [N, F]
        // The parameters as one vector: W row by row, then b, then a.
        let result = solver.minimize(from: [Double](repeating: 0, count: k * f + k + l)) {
            WeightedBlockRegression.objective($0, blocks: x, labels: labels, featureCount: f, classCount: k, inverseRegularization: c)
        }
        blockWeights = WeightedBlockRegression.softmax(Array(result.x[(k * f + k)...]))
        weights = Array(result.x[0..<(k * f)])
        intercepts = Array(result.x[(k * f)..<(k * f + k)])
        self.classCount = k
        featureCount = f
        iterations = result.iterations
        converged = result.converged
    }

    /// The objective and its gradient at theta = (W row by row, b, a), for blocks given as L arrays [N, F]. The
    /// three products (scores X W^T, the gradient R^T X, and R W toward the mixed features) go through dgemm.
    static func objective(_ theta: [Double], blocks x: [[Double]], labels: [Int], featureCount f: Int, classCount k: Int,
                          inverseRegularization c: Double) -> (value: Double, gradient: [Double]) {
        let (l, n) = (x.count, labels.count)
        let s = softmax(Array(theta[(k * f + k)...]))
        var mixed = [Double](repeating: 0, count: n * f)  // [N, F] = sum_l s_l x_l
        for block in 0..<l { cblas_daxpy(Int32(n * f), s[block], x[block], 1, &mixed, 1) }
        var scores = [Double](repeating: 0, count: n * k)  // [N, K] = X W^T + b
        for i in 0..<n { for cls in 0..<k { scores[i * k + cls] = theta[k * f + cls] } }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(f), 1, mixed, Int32(f), theta, Int32(f), 1, &scores, Int32(k))
        var value = 0.0
        var residuals = [Double](repeating: 0, count: n * k)  // softmax - one-hot
        for i in 0..<n {
            let row = scores[(i * k)..<((i + 1) * k)]
            let top = row.max()!
            let logSum = top + log(row.reduce(0) { $0 + exp($1 - top) })
            value -= scores[i * k + labels[i]] - logSum
            for cls in 0..<k { residuals[i * k + cls] = exp(scores[i * k + cls] - logSum) - (cls == labels[i] ? 1 : 0) }
        }
        var gradient = [Double](repeating: 0, count: k * f + k + l)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(f), Int32(n), 1, residuals, Int32(k), mixed, Int32(f), 0, &gradient, Int32(f))
        for i in 0..<n { for cls in 0..<k { gradient[k * f + cls] += residuals[i * k + cls] } }
        // d loss / d x_i = W^T r_i, [N, F] = R W; then d loss / d s_l = sum_i (W^T r_i) . x_il, and through the
        // softmax d a_l = s_l (g_l - sum_m s_m g_m).
        var towardMixed = [Double](repeating: 0, count: n * f)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(f), Int32(k), 1, residuals, Int32(k), theta, Int32(f), 0, &towardMixed, Int32(f))
        let g = (0..<l).map { cblas_ddot(Int32(n * f), towardMixed, 1, x[$0], 1) }
        let average = zip(s, g).reduce(0) { $0 + $1.0 * $1.1 }
        for block in 0..<l { gradient[k * f + k + block] = s[block] * (g[block] - average) }
        for j in 0..<(k * f) {
            value += theta[j] * theta[j] / (2 * c)
            gradient[j] += theta[j] / c
        }
        return (value / Double(n), gradient.map { $0 / Double(n) })
    }

    static func softmax(_ a: [Double]) -> [Double] {
        let top = a.max() ?? 0
        let e = a.map { exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// The most probable class of every example of `blocks` (L tensors [M, F]; a tie goes to the smaller class).
    public func predict(_ blocks: [Tensor]) -> [Int] {
        require(blocks.count == blockWeights.count && blocks.allSatisfy { $0.rank == 2 && $0.shape == blocks[0].shape && $0.shape[1] == featureCount },
                "WeightedBlockRegression: need \(blockWeights.count) blocks of [M, \(featureCount)], got \(blocks.map(\.shape))")
        let (m, f, k) = (blocks[0].shape[0], featureCount, classCount)
        var mixed = [Double](repeating: 0, count: m * f)
        for (weight, block) in zip(blockWeights, blocks) { cblas_daxpy(Int32(m * f), weight, block.scalars.map(Double.init), 1, &mixed, 1) }
        var scores = [Double](repeating: 0, count: m * k)
        for i in 0..<m { for cls in 0..<k { scores[i * k + cls] = intercepts[cls] } }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(k), Int32(f), 1, mixed, Int32(f), weights, Int32(f), 1, &scores, Int32(k))
        return (0..<m).map { i in (0..<k).reduce(0) { scores[i * k + $1] > scores[i * k + $0] ? $1 : $0 } }
    }

    /// The fraction of examples whose predicted class is their label.
    public func accuracy(_ blocks: [Tensor], labels: [Int]) -> Float {
        Float(zip(predict(blocks), labels).filter { $0 == $1 }.count) / Float(max(1, labels.count))
    }
}
