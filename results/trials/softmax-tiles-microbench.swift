// The standalone microbenchmark behind results/trials/engine-trials-not-kept.txt (softmax rows a tile at a
// time): V0 is LaneKernels.softmaxRows as committed (sixteen lanes), V1 the tiled variant, on 12,544 rows of 56
// floats (49 keys and 7 padded ones), best of 30 runs each, and a bit-for-bit comparison of their outputs.
//   swiftc -O -target-cpu skylake-avx512 results/trials/softmax-tiles-microbench.swift -o /tmp/smb && /tmp/smb
// (needs a CPU with AVX-512; the kernel helpers are copies of Sources/Autograd/LaneKernels.swift and
// Sources/WideKernels/Lanes.swift). Replacing V1's body by a plain exp over all floats gave the 0.090 ms floor.

import Foundation
typealias Lanes = SIMD16<Float>

@_transparent func loadLanes(_ p: UnsafePointer<Float>) -> Lanes { UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
@_transparent func storeLanes(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self) }
@_transparent func addingKeyBias(_ score: Lanes, _ bias: Lanes) -> Lanes { (score + bias).replacing(with: -.infinity, where: bias .< -1e30) }
@_transparent func addLanes(_ v: Lanes, into sums: inout SIMD8<Float>) { sums += v.lowHalf; sums += v.highHalf }
@_transparent func loadEight(_ p: UnsafePointer<Float>, filling: Float = 0) -> Lanes {
    Lanes(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: SIMD8(repeating: filling)) }
@_transparent func storeEight(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self) }
@_transparent func largestLane(_ v: Lanes) -> Float {
    let half = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    let quarter = half.lowHalf.replacing(with: half.highHalf, where: half.highHalf .> half.lowHalf)
    let eighth = quarter.lowHalf.replacing(with: quarter.highHalf, where: quarter.highHalf .> quarter.lowHalf)
    return eighth[1] > eighth[0] ? eighth[1] : eighth[0]
}
@_transparent  // always inlined, even where @inline(__always) was not honoured (a call per vector costs a third)
func fastExp(_ x: Lanes) -> Lanes {
    // Clamp with comparisons and `replacing`: SIMD min/max/clamped are scalarized at this target.
    var clamped = x.replacing(with: -87.3, where: x .< -87.3)
    clamped.replace(with: 88.7, where: clamped .> 88.7)
    // Round x / ln 2 to an integer n with the "magic number" trick: adding 1.5 * 2^23 leaves n in the low
    // mantissa bits. (Converting to Int32 would trap on overflow, and that branch stops vectorization.)
    let shifted = Lanes(repeating: 12_582_912).addingProduct(clamped, Lanes(repeating: 1.44269504088896341))
    let n = shifted - 12_582_912
    // r = x - n ln 2, with ln 2 split in two so that n * 0.693359375 is exact.
    let r = clamped.addingProduct(n, Lanes(repeating: -0.693359375)).addingProduct(n, Lanes(repeating: 2.12194440e-4))
    var p = Lanes(repeating: 1.9875691500e-4)
    p = Lanes(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = Lanes(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = Lanes(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = Lanes(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = Lanes(repeating: 5.0000001201e-1).addingProduct(p, r)
    let er = (r + 1).addingProduct(p, r * r)
    let exponent = (unsafeBitCast(shifted, to: Lanes.MaskStorage.self) &- 0x4B40_0000 &+ 127) &<< 23  // 2^n from its exponent bits
    let result = er * unsafeBitCast(exponent, to: Lanes.self)
    return result.replacing(with: 0, where: x .< -87.3)
}


@inline(never)
func softmaxV0(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int, keyBias bias: UnsafePointer<Float>) {
    let whole = width / Lanes.scalarCount * Lanes.scalarCount, rest = width - whole
    for r in 0..<rows {
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
        var maximum = largestLane(maxima)
        if maximum == -.infinity { maximum = 0 }
        var sums = SIMD8<Float>()
        i = 0
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
        let inverse = total > 0 ? 1 / total : 0
        i = 0
        while i < whole {
            storeLanes(loadLanes(row + i) * inverse, row + i)
            i += Lanes.scalarCount
        }
        if rest > 0 { storeEight(loadEight(row + i) * inverse, row + i) }
    }
}

@inline(never)
func softmaxV1(_ scores: UnsafeMutablePointer<Float>, rows: Int, width: Int, keyBias bias: UnsafePointer<Float>) {
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


let rows = 12544, width = 56
var rng = SystemRandomNumberGenerator()
let base = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
for i in 0..<(rows * width) { base[i] = Float.random(in: -6...6, using: &rng) }
let bias = UnsafeMutablePointer<Float>.allocate(capacity: width)
for j in 0..<width { bias[j] = j < 49 ? 0 : -.infinity }
let a = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
let b = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
func time(_ f: (UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<Float>) -> Void, _ out: UnsafeMutablePointer<Float>) -> Double {
    var best = Double.infinity
    for _ in 0..<30 {
        out.update(from: base, count: rows * width)
        let t0 = DispatchTime.now().uptimeNanoseconds
        f(out, rows, width, bias)
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    return best
}
let t0 = time({ softmaxV0($0, rows: $1, width: $2, keyBias: $3) }, a)
let t1 = time({ softmaxV1($0, rows: $1, width: $2, keyBias: $3) }, b)
var same = true
for i in 0..<(rows * width) where a[i].bitPattern != b[i].bitPattern { same = false; break }
print(String(format: "V0 %.3f ms  V1 %.3f ms  ratio %.3f  same bits %@", t0, t1, t1 / t0, same ? "yes" : "NO"))
