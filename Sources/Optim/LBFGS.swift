// L-BFGS (Nocedal, 1980; Nocedal and Wright, "Numerical Optimization", algorithm 7.4 and 7.5): a
// quasi-Newton method for smooth functions of many variables. It keeps the last m steps s = x' - x and
// gradient changes y = g' - g, and turns the gradient into a direction with the two-loop recursion, which
// applies an approximation of the inverse Hessian built from those pairs without ever forming a matrix.
// A backtracking line search (Armijo's sufficient decrease) takes each step.
//
// The project uses it for one thing: the classical references' logistic regression, the same convex
// problem scikit-learn's `LogisticRegression(solver="lbfgs")` solves, driven to the same optimum. Deep
// networks train with AdamW (Optimizers.swift); L-BFGS is for small, smooth, deterministic problems.

/// Minimizes smooth functions of a vector with L-BFGS.
public struct LBFGS: Sendable {
    /// How many (s, y) pairs approximate the curvature (scikit-learn and SciPy use 10).
    public var memory = 10
    /// The most iterations.
    public var maximumIterations = 1000
    /// Converged when the largest gradient component is at most this.
    public var gradientTolerance = 1e-6

    /// A solver with the defaults.
    public init() {}

    /// What a minimization ended with.
    public struct Result: Sendable {
        /// The minimizer found, f there, and the iterations taken.
        public var x: [Double], value: Double, iterations: Int
        /// Whether the gradient tolerance was reached (not the iteration cap).
        public var converged: Bool
    }

    /// Minimizes `f`, which returns the value and the gradient at a point, starting from `start`.
    public func minimize(from start: [Double], _ f: ([Double]) -> (value: Double, gradient: [Double])) -> Result {
        var x = start
        var (value, gradient) = f(x)
        var pairs: [(s: [Double], y: [Double], rho: Double)] = []
        for iteration in 0..<maximumIterations {
            if gradient.map(abs).max() ?? 0 <= gradientTolerance { return Result(x: x, value: value, iterations: iteration, converged: true) }
            var direction = twoLoop(gradient, pairs)
            var slope = dot(direction, gradient)
            if slope >= 0 {  // not a descent direction (lost curvature): start again from steepest descent
                pairs.removeAll()
                direction = gradient.map { -$0 }
                slope = dot(direction, gradient)
            }
            // The first step has no curvature yet: scale it to move x by about 1 in the largest component.
            var step = pairs.isEmpty ? min(1, 1 / (direction.map(abs).max() ?? 1)) : 1
            var candidate = x, next = (value: value, gradient: gradient)
            while true {  // Armijo: f(x + t d) <= f(x) + 1e-4 t g.d
                candidate = zip(x, direction).map { $0 + step * $1 }
                next = f(candidate)
                if next.value <= value + 1e-4 * step * slope { break }
                step /= 2
                if step < 1e-20 { return Result(x: x, value: value, iterations: iteration, converged: false) }
            }
            let s = zip(candidate, x).map { $0 - $1 }, y = zip(next.gradient, gradient).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {  // keep only pairs of positive curvature
                pairs.append((s, y, 1 / sy))
                if pairs.count > memory { pairs.removeFirst() }
            }
            (x, value, gradient) = (candidate, next.value, next.gradient)
        }
        return Result(x: x, value: value, iterations: maximumIterations, converged: false)
    }

    /// The direction -H g, with H the inverse-Hessian approximation of the stored pairs (Nocedal and Wright,
    /// algorithm 7.4), started from the scaled identity (s.y / y.y) I of the newest pair.
    func twoLoop(_ gradient: [Double], _ pairs: [(s: [Double], y: [Double], rho: Double)]) -> [Double] {
        var q = gradient
        var alphas = [Double](repeating: 0, count: pairs.count)
        for i in pairs.indices.reversed() {
            alphas[i] = pairs[i].rho * dot(pairs[i].s, q)
            for j in q.indices { q[j] -= alphas[i] * pairs[i].y[j] }
        }
        if let newest = pairs.last {
            let scale = 1 / (newest.rho * dot(newest.y, newest.y))
            for j in q.indices { q[j] *= scale }
        }
        for i in pairs.indices {
            let beta = pairs[i].rho * dot(pairs[i].y, q)
            for j in q.indices { q[j] += (alphas[i] - beta) * pairs[i].s[j] }
        }
        return q.map { -$0 }
    }
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for i in a.indices { sum += a[i] * b[i] }
    return sum
}
