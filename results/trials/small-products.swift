// Trial: is a plain Swift SIMD kernel faster than OpenBLAS on attention's per-head score product
// S = alpha Q K^T (Q, K: [T, dh] slices of the packed [T, 3D] projection, rows 3D apart)?
// The kernel: K transposed into a zero-padded [dh, Tp] block, then 4 rows x 8 columns of S per register
// block, one fused multiply-add per (row, k). Measured per call, one thread, hot cache.
import Autograd
import Foundation
KernelChoice.applyAtLaunch()
BLAS.setThreadCount(1)
typealias F8 = SIMD8<Float>
// S[t, tp] = alpha * Q[t, dh] K[t, dh]^T, rows of Q and K `ld` apart; columns t..<tp of S are left alone... written 0 here.
@inline(__always)
func smallQKT(t: Int, dh: Int, alpha: Float, q: UnsafePointer<Float>, k: UnsafePointer<Float>, ld: Int,
              s: UnsafeMutablePointer<Float>, lds: Int, kt: UnsafeMutablePointer<Float>) {
    let tp = (t + 7) / 8 * 8
    // K^T, zero-padded to tp columns
    for c in 0..<dh { for j in 0..<t { kt[c * tp + j] = k[j * ld + c] }; for j in t..<tp { kt[c * tp + j] = 0 } }
    var i = 0
    while i + 4 <= t {
        var j = 0
        while j < tp {
            var (a0, a1, a2, a3) = (F8(), F8(), F8(), F8())
            for c in 0..<dh {
                let v = UnsafeRawPointer(kt + c * tp + j).loadUnaligned(as: F8.self)
                a0.addProduct(F8(repeating: q[i * ld + c]), v)
                a1.addProduct(F8(repeating: q[(i + 1) * ld + c]), v)
                a2.addProduct(F8(repeating: q[(i + 2) * ld + c]), v)
                a3.addProduct(F8(repeating: q[(i + 3) * ld + c]), v)
            }
            UnsafeMutableRawPointer(s + i * lds + j).storeBytes(of: a0 * alpha, as: F8.self)
            UnsafeMutableRawPointer(s + (i + 1) * lds + j).storeBytes(of: a1 * alpha, as: F8.self)
            UnsafeMutableRawPointer(s + (i + 2) * lds + j).storeBytes(of: a2 * alpha, as: F8.self)
            UnsafeMutableRawPointer(s + (i + 3) * lds + j).storeBytes(of: a3 * alpha, as: F8.self)
            j += 8
        }
        i += 4
    }
    while i < t {
        var j = 0
        while j < tp {
            var a0 = F8()
            for c in 0..<dh { a0.addProduct(F8(repeating: q[i * ld + c]), UnsafeRawPointer(kt + c * tp + j).loadUnaligned(as: F8.self)) }
            UnsafeMutableRawPointer(s + i * lds + j).storeBytes(of: a0 * alpha, as: F8.self)
            j += 8
        }
        i += 1
    }
}
for (t, dh, d) in [(49, 16, 64), (64, 16, 64), (49, 32, 256), (100, 16, 64), (25, 16, 64)] {
    let tp = (t + 7) / 8 * 8
    let n = t * 3 * d  // one sample's packed [T, 3D] projection
    let x = UnsafeMutablePointer<Float>.allocate(capacity: n); for i in 0..<n { x[i] = Float((i * 7919) % 1000) / 1000 - 0.5 }
    let s1 = UnsafeMutablePointer<Float>.allocate(capacity: t * tp), s2 = UnsafeMutablePointer<Float>.allocate(capacity: t * tp)
    let kt = UnsafeMutablePointer<Float>.allocate(capacity: dh * tp)
    func time(_ f: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<15 { let st = DispatchTime.now().uptimeNanoseconds; for _ in 0..<2000 { f() }; best = min(best, Double(DispatchTime.now().uptimeNanoseconds - st) / 2000) }
        return best
    }
    let blas = time { BLAS.sgemm(transposeA: false, transposeB: true, m: t, n: t, k: dh, alpha: 0.25, a: x, lda: 3 * d, b: x + d, ldb: 3 * d, beta: 0, c: s1, ldc: tp) }
    let mine = time { smallQKT(t: t, dh: dh, alpha: 0.25, q: x, k: x + d, ld: 3 * d, s: s2, lds: tp, kt: kt) }
    var maxd: Float = 0; for i in 0..<t { for j in 0..<t { maxd = max(maxd, abs(s1[i * tp + j] - s2[i * tp + j])) } }
    print("T \(t) dh \(dh): OpenBLAS \(String(format: "%.2f", blas / 1e3)) us, Swift SIMD8 \(String(format: "%.2f", mine / 1e3)) us, max diff \(maxd)")
}
