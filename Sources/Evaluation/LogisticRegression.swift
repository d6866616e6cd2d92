// Multinomial logistic regression on fixed features, solved to its optimum: the linear classifier a skeptic
// fits on raw pixels, log-mel statistics or a bag of words, and the same problem as scikit-learn's
// `LogisticRegression(C=C)` (solver "lbfgs", multinomial loss, an unpenalized intercept):
//
//   minimize over W [K, F] and b [K]:   (1/N) sum_i -log softmax(W x_i + b)[y_i]  +  ||W||^2 / (2 C N)
//
// The problem is convex, and with C finite strictly convex in W, so there is one answer: L-BFGS (Optim)
// finds it to a gradient of 1e-6, and no learning rate, epoch count or seed enters. That makes it a fair
// reference: it cannot be under-trained.
import Autograd
import COpenBLAS
import Foundation
import Optim

/// A fitted multinomial logistic regression.
///
/// ```swift
/// let scaler = FeatureStandardizer(fitting: trainFeatures)
/// let model = LogisticRegression(features: scaler(trainFeatures), labels: labels, classCount: 10)
/// let accuracy = model.accuracy(scaler(testFeatures), labels: testLabels)
/// ```
public struct LogisticRegression: Sendable {
    /// [K, F] row-major: one row of weights per class.
    public let weights: [Double]
    /// [K]: one intercept per class (they sum to zero: the gradient of their sum is always zero).
    public let intercepts: [Double]
    /// K and F.
    public let classCount: Int, featureCount: Int
    /// The inverse regularization strength (scikit-learn's C; 1 is its default).
    public let inverseRegularization: Double
    /// L-BFGS iterations taken, and whether it converged.
    public let iterations: Int, converged: Bool

    /// Fits the model to `features` [N, F] and their labels in 0..<classCount.
    public init(features: Tensor, labels: [Int], classCount: Int, inverseRegularization c: Double = 1, solver: LBFGS = LBFGS()) {
        require(features.rank == 2 && features.shape[0] == labels.count && !labels.isEmpty,
                "LogisticRegression: features \(features.shape) do not match \(labels.count) labels")
        require(labels.allSatisfy { (0..<classCount).contains($0) }, "LogisticRegression: a label is outside 0..<\(classCount)")
        require(c > 0, "LogisticRegression: C must be positive, got \(c)")
        let (n, f, k) = (labels.count, features.shape[1], classCount)
        let x = features.scalars.map(Double.init)  // [N, F]
        // The parameters as one vector: W row by row, then b. The two products per evaluation (scores X W^T and
        // the gradient R^T X) go through OpenBLAS's double-precision dgemm: 10,000 images of 784 pixels take
        // milliseconds instead of a second.
        let result = solver.minimize(from: [Double](repeating: 0, count: k * f + k)) { theta in
            var scores = [Double](repeating: 0, count: n * k)  // [N, K] = X W^T + b
            for i in 0..<n { for c in 0..<k { scores[i * k + c] = theta[k * f + c] } }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(k), Int32(f), 1, x, Int32(f), theta, Int32(f), 1, &scores, Int32(k))
            var value = 0.0
            var residuals = [Double](repeating: 0, count: n * k)  // d loss_i / d score_c = softmax_c - [c == y_i]
            for i in 0..<n {
                let row = scores[(i * k)..<((i + 1) * k)]
                let top = row.max()!
                let logSum = top + log(row.reduce(0) { $0 + exp($1 - top) })
                value -= scores[i * k + labels[i]] - logSum
                for c in 0..<k { residuals[i * k + c] = exp(scores[i * k + c] - logSum) - (c == labels[i] ? 1 : 0) }
            }
            var gradient = [Double](repeating: 0, count: k * f + k)
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(k), Int32(f), Int32(n), 1, residuals, Int32(k), x, Int32(f), 0, &gradient, Int32(f))
            for i in 0..<n { for c in 0..<k { gradient[k * f + c] += residuals[i * k + c] } }
            for j in 0..<(k * f) {
                value += theta[j] * theta[j] / (2 * c)
                gradient[j] += theta[j] / c
            }
            return (value / Double(n), gradient.map { $0 / Double(n) })
        }
        weights = Array(result.x[0..<(k * f)])
        intercepts = Array(result.x[(k * f)...])
        self.classCount = k
        featureCount = f
        inverseRegularization = c
        iterations = result.iterations
        converged = result.converged
    }

    /// Class probabilities of every row of `features` [M, F], row-major [M, K].
    public func probabilities(_ features: Tensor) -> [Double] {
        require(features.rank == 2 && features.shape[1] == featureCount,
                "LogisticRegression: features \(features.shape) do not have the \(featureCount) the model was fitted on")
        let (m, f, k) = (features.shape[0], featureCount, classCount)
        let x = features.storage.pointer
        var result = [Double](repeating: 0, count: m * k)
        for i in 0..<m {
            var scores = intercepts
            for c in 0..<k { for j in 0..<f { scores[c] += weights[c * f + j] * Double(x[i * f + j]) } }
            let top = scores.max()!
            let total = scores.reduce(0) { $0 + exp($1 - top) }
            for c in 0..<k { result[i * k + c] = exp(scores[c] - top) / total }
        }
        return result
    }

    /// The most probable class of every row (a tie goes to the smaller class).
    public func predict(_ features: Tensor) -> [Int] {
        let p = probabilities(features), k = classCount
        return (0..<features.shape[0]).map { i in (0..<k).reduce(0) { p[i * k + $1] > p[i * k + $0] ? $1 : $0 } }
    }

    /// The fraction of rows whose predicted class is their label.
    public func accuracy(_ features: Tensor, labels: [Int]) -> Float {
        Float(zip(predict(features), labels).filter { $0 == $1 }.count) / Float(max(1, labels.count))
    }
}

/// Standardizes features with the mean and standard deviation of the examples it was fitted on (as
/// scikit-learn's `StandardScaler`: the biased variance; a feature that never varies is only centred).
public struct FeatureStandardizer: Sendable {
    /// Per feature, [F].
    public let mean: [Float], scale: [Float]

    /// The statistics of `features` [N, F].
    public init(fitting features: Tensor) {
        require(features.rank == 2 && features.shape[0] > 0, "FeatureStandardizer: need features [N, F] with N > 0, got \(features.shape)")
        let (n, f) = (features.shape[0], features.shape[1])
        let x = features.storage.pointer
        var mean = [Double](repeating: 0, count: f), square = [Double](repeating: 0, count: f)
        for i in 0..<n { for j in 0..<f { mean[j] += Double(x[i * f + j]) } }
        for j in 0..<f { mean[j] /= Double(n) }
        for i in 0..<n { for j in 0..<f { let d = Double(x[i * f + j]) - mean[j]; square[j] += d * d } }
        self.mean = mean.map(Float.init)
        scale = square.map { let s = ($0 / Double(n)).squareRoot(); return s > 0 ? Float(s) : 1 }
    }

    /// (x - mean) / scale, feature by feature, for `features` [M, F].
    public func callAsFunction(_ features: Tensor) -> Tensor {
        let f = mean.count
        require(features.rank == 2 && features.shape[1] == f, "FeatureStandardizer: features \(features.shape) do not have \(f) columns")
        let x = features.storage.pointer
        return Tensor(shape: features.shape, (0..<features.count).map { (x[$0] - mean[$0 % f]) / scale[$0 % f] })
    }
}
