// A 2-D view of high-dimensional features: their first two principal components.
import Autograd

/// The coordinates of each row of `features` [N, D] along the first two principal directions of the rows
/// (power iteration with deflation on the D x D covariance, from a fixed start, so the result is
/// deterministic up to the sign of each direction). Returns two arrays of N values.
public func principalComponents(_ features: Tensor, iterations: Int = 200) -> (first: [Double], second: [Double]) {
    require(features.rank == 2 && features.shape[0] >= 2, "principalComponents: needs [N >= 2, D], got \(features.shape)")
    let (n, d) = (features.shape[0], features.shape[1])
    let centered = Tensor.withoutGradients { features - features.mean(alongAxes: [0], keepingDimensions: true) }
    let covariance = Tensor.matmul(centered, centered, transposeA: true).scalars.map { Double($0) / Double(n) }  // [D, D]
    var directions: [[Double]] = []
    for _ in 0..<2 {
        var v = (0..<d).map { Double($0 % 7) - 3 }  // a fixed, generic start
        for _ in 0..<iterations {
            var next = (0..<d).map { i in (0..<d).reduce(0) { $0 + covariance[i * d + $1] * v[$1] } }
            for u in directions {  // remove the directions already found
                let overlap = zip(next, u).reduce(0) { $0 + $1.0 * $1.1 }
                next = zip(next, u).map { $0 - overlap * $1 }
            }
            let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = next.map { $0 / max(norm, 1e-30) }
        }
        directions.append(v)
    }
    let x = centered.scalars
    func project(_ u: [Double]) -> [Double] { (0..<n).map { r in (0..<d).reduce(0) { $0 + Double(x[r * d + $1]) * u[$1] } } }
    return (project(directions[0]), project(directions[1]))
}
