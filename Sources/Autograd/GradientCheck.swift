// Gradient checking: compare the gradients backpropagation computes with finite differences.
//
// To check all outputs at once, the output y = f(inputs) is reduced to the scalar L = sum_i r_i y_i
// with fixed random weights r (so no two outputs can cancel by accident), and for every input
// element x_j the central difference
//     dL/dx_j ~ (L(x_j + eps) - L(x_j - eps)) / (2 eps)       (error O(eps^2))
// is compared with the analytic gradient. In Float32, eps = 1e-2 balances truncation error (eps^2)
// against rounding error (1e-7 / eps); tolerances are set accordingly.

/// What a gradient check found: the largest disagreement over all input elements.
public struct GradientCheckReport: CustomStringConvertible {
    /// max |analytic - numeric|.
    public var maxAbsoluteError: Float = 0
    /// max |analytic - numeric| / max(1, |analytic|, |numeric|).
    public var maxRelativeError: Float = 0
    /// (input number, element index) of the worst element.
    public var worst: (input: Int, element: Int) = (0, 0)
    /// Analytic and numeric values at the worst element.
    public var worstValues: (analytic: Float, numeric: Float) = (0, 0)
    /// The largest relative error that passes.
    public var tolerance: Float

    /// Whether every element agreed within `tolerance`.
    public var passed: Bool { maxRelativeError <= tolerance }

    /// One line: passed or failed, the worst element and its two values.
    public var description: String {
        "gradient check \(passed ? "passed" : "FAILED"): max relative error \(maxRelativeError) (tolerance \(tolerance)), "
            + "worst at input \(worst.input) element \(worst.element): analytic \(worstValues.analytic), numeric \(worstValues.numeric)"
    }
}

/// Finite-difference checks of the gradients backpropagation computes.
public enum GradientCheck {
    /// Checks d f(inputs) / d inputs for every input that requires a gradient.
    ///
    /// - Parameters:
    ///   - inputs: leaf tensors; the ones with `requiresGradient` are checked. Their values are perturbed
    ///     in place during the check and restored afterwards.
    ///   - epsilon: the finite-difference step.
    ///   - tolerance: the largest acceptable relative error (see `GradientCheckReport`).
    ///   - function: the computation; it must be deterministic (no fresh randomness per call).
    public static func check(
        _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, seed: UInt64 = 0,
        _ function: ([Tensor]) -> Tensor
    ) -> GradientCheckReport {
        // 1. The analytic gradients of L = sum(r * f(inputs)).
        for input in inputs { input.zeroGradient() }
        let output = function(inputs)
        var rng = RandomGenerator(seed: seed)
        let weights = Tensor.uniform(output.shape, low: -1, high: 1, using: &rng)
        (output * weights).sum().backward()
        let analytic = inputs.map { $0.grad?.scalars ?? [Float](repeating: 0, count: $0.count) }

        // 2. Central differences, element by element, in Double where it helps.
        func loss() -> Double {
            let y = Tensor.withoutGradients { function(inputs) }
            var sum = 0.0
            for i in 0..<y.count { sum += Double(y.storage.pointer[i]) * Double(weights.storage.pointer[i]) }
            return sum
        }
        var report = GradientCheckReport(tolerance: tolerance)
        for (n, input) in inputs.enumerated() where input.requiresGradient {
            let x = input.storage.pointer
            for j in 0..<input.count {
                let saved = x[j]
                x[j] = saved + epsilon
                let plus = loss()
                x[j] = saved - epsilon
                let minus = loss()
                x[j] = saved
                let numeric = Float((plus - minus) / (2 * Double(epsilon)))
                let error = Swift.abs(analytic[n][j] - numeric)
                let relative = error / Swift.max(1, Swift.abs(analytic[n][j]), Swift.abs(numeric))
                report.maxAbsoluteError = Swift.max(report.maxAbsoluteError, error)
                if relative >= report.maxRelativeError {
                    report.maxRelativeError = relative
                    report.worst = (n, j)
                    report.worstValues = (analytic[n][j], numeric)
                }
            }
        }
        for input in inputs { input.zeroGradient() }
        return report
    }
}
