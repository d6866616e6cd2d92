// Attention restricted to a neighbourhood: the band mask of data2vec's target-context ablation (paper section 5.5,
// "Target contextualization", Figure 3). The teacher's self-attention is limited to a window around each position,
// so its targets carry only that much context; the student and every downstream model keep full attention.
//
//   bias[i, j] = 0        if position j lies within `radius` steps of position i in every coordinate
//              = -1e9     otherwise (added to the scores, so exp() of it is exactly 0 in Float)
//
// A sequence has one coordinate per position (a window of 2r + 1 steps); a grid of image patches has two (a
// (2r + 1) x (2r + 1) square of patches). A finite -1e9 rather than -inf keeps a query whose whole window is
// padding finite: it then spreads its attention over the valid keys outside the window instead of dividing 0 by 0.
// Positions without coordinates (a CLS token) attend to everything and are attended to by everything.
import Autograd

/// The additive attention bias [T, T] that lets query i (row) attend to key j (column) only when every
/// coordinate of j lies within `radius` of i's (the Chebyshev distance on a grid). `coordinates[i]` is nil for a
/// position that is not restricted (a CLS token). A radius that covers the whole input gives a bias of zeros,
/// which leaves the attention exactly as it was.
public func localAttentionBias(coordinates: [[Int]?], radius: Int) -> Tensor {
    require(radius >= 0, "localAttentionBias: the radius must be at least 0, got \(radius)")
    let t = coordinates.count
    var bias = [Float](repeating: 0, count: t * t)
    for (i, a) in coordinates.enumerated() {
        guard let a else { continue }
        for (j, b) in coordinates.enumerated() {
            guard let b else { continue }
            require(a.count == b.count, "localAttentionBias: positions \(i) and \(j) have different numbers of coordinates")
            if zip(a, b).contains(where: { abs($0 - $1) > radius }) { bias[i * t + j] = -1e9 }
        }
    }
    return Tensor(shape: [t, t], bias)
}

/// The coordinates of a sequence of `count` positions: position t is at [t].
public func sequenceCoordinates(_ count: Int) -> [[Int]?] { (0..<count).map { [$0] } }
