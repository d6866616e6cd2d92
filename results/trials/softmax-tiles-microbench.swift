// The standalone microbenchmark behind results/trials/engine-trials-not-kept.txt (softmax rows a tile at a
// time): the committed sixteen-lane softmax (LaneKernels.softmaxRows, compiled from the project's own source)
// against the tiled variant below, on 12,544 rows of 56 floats (49 keys and 7 padded ones), best of 30 runs
// each, and a bit-for-bit comparison of their outputs. Needs a CPU with AVX-512 and the row-by-row kernel,
// which the transposed attention layout replaced after commit a299dfe; compile against that commit's sources:
//   git worktree add /tmp/a299dfe a299dfe
//   swiftc -O -wmo -target-cpu skylake-avx512 -parse-as-library results/trials/softmax-tiles-microbench.swift \
//     /tmp/a299dfe/Sources/Autograd/LaneKernels.swift /tmp/a299dfe/Sources/WideKernels/Lanes.swift -o /tmp/smb && /tmp/smb
// Replacing the tiled variant's body by a plain exp over all floats gave the 0.090 ms floor.
import Foundation

@inline(never)
func softmaxTiled(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int, keyBias bias: UnsafePointer<Float>) {
    let whole = width / Lanes.scalarCount * Lanes.scalarCount, rest = width - whole
    let tile = 32
    var maximaOf = [Float](repeating: 0, count: tile), inverseOf = [Float](repeating: 0, count: tile)
    maximaOf.withUnsafeMutableBufferPointer { mx in
    inverseOf.withUnsafeMutableBufferPointer { inv in
    var start = 0
    while start < rows {
        let end = min(rows, start + tile)
        for r in start..<end {
            let row = scores + r * width
            var maxima = Lanes(repeating: -.infinity)
            var i = 0
            while i < whole {
                let v = addingKeyBias(loadLanes(row + i), loadLanes(bias + i))
                storeLanes(v, row + i)
                maxima.replace(with: v, where: v .> maxima)
                i += Lanes.scalarCount
            }
            if rest > 0 {
                let v = addingKeyBias(loadEight(row + i, filling: -.infinity), loadEight(bias + i, filling: -.infinity))
                storeEight(v, row + i)
                maxima.replace(with: v, where: v .> maxima)
            }
            let maximum = largestLane(maxima)
            mx[r - start] = maximum == -.infinity ? 0 : maximum
        }
        for r in start..<end {
            let row = scores + r * width
            let maximum = mx[r - start]
            var sums = SIMD8<Float>()
            var i = 0
            while i < whole {
                let e = fastExp(loadLanes(row + i) - maximum)
                storeLanes(e, row + i)
                addLanes(e, into: &sums)
                i += Lanes.scalarCount
            }
            if rest > 0 {
                let e = fastExp(loadEight(row + i, filling: -.infinity) - maximum)
                storeEight(e, row + i)
                addLanes(e, into: &sums)
            }
            let total = sums.sum()
            inv[r - start] = total > 0 ? 1 / total : 0
        }
        for r in start..<end {
            let row = scores + r * width
            let inverse = inv[r - start]
            var i = 0
            while i < whole {
                storeLanes(loadLanes(row + i) * inverse, row + i)
                i += Lanes.scalarCount
            }
            if rest > 0 { storeEight(loadEight(row + i) * inverse, row + i) }
        }
        start = end
    }
    }
    }
}

@main
enum SoftmaxTilesMicrobenchmark {
    static func main() {
        let rows = 12544, width = 56
        var rng = SystemRandomNumberGenerator()
        let base = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        for i in 0..<(rows * width) { base[i] = Float.random(in: -6...6, using: &rng) }
        let bias = UnsafeMutablePointer<Float>.allocate(capacity: width)
        for j in 0..<width { bias[j] = j < 49 ? 0 : -.infinity }
        let committed = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        let tiled = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        func best(_ softmax: (UnsafeMutablePointer<Float>) -> Void, _ out: UnsafeMutablePointer<Float>) -> Double {
            var best = Double.infinity
            for _ in 0..<30 {
                out.update(from: base, count: rows * width)
                let start = DispatchTime.now().uptimeNanoseconds
                softmax(out)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            return best
        }
        let t0 = best({ LaneKernels.softmaxRows($0, rows: rows, width: width, keyBias: bias) }, committed)
        let t1 = best({ softmaxTiled($0, rows: rows, width: width, keyBias: bias) }, tiled)
        let same = (0..<(rows * width)).allSatisfy { committed[$0].bitPattern == tiled[$0].bitPattern }
        print(String(format: "committed %.3f ms  tiled %.3f ms  ratio %.3f  same bits %@", t0, t1, t1 / t0, same ? "yes" : "NO"))
    }
}
