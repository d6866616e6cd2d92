// # Chapter 01: Tensors, and why every matrix product goes through BLAS
//
// What you will learn
//   1. a tensor is a flat buffer of floats plus a shape; strides turn an index into an offset;
//   2. reshaping is free, transposing moves data;
//   3. broadcasting: how [3, 1] + [4] becomes [3, 4], and what a shape error looks like;
//   4. why a hand-written matrix product is 10-100x slower than OpenBLAS, measured.
// Prerequisites: none. Run: `swift run -c release ch01-tensors` (add `--quick` for a 5-second version).
// Letters for shapes: M, K, N are the sizes of a product [M, K] x [K, N] -> [M, N].
import ArgumentParser
import Autograd
import ChapterKit
import COpenBLAS
import Foundation
import Plot

struct Chapter01: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ch01-tensors", abstract: "Tensors, broadcasting, and why BLAS.")
    @OptionGroup var options: ChapterOptions

    func run() throws {
        let chapter = try Chapter(number: 1, title: "Tensors, broadcasting, and why BLAS", options: options)
        storageAndStrides(chapter)
        broadcasting(chapter)
        try whyBLAS(chapter)
        chapter.section("Summary")
        chapter.say("""
            A tensor is a pointer, a count and a shape. Ops never write into their inputs: each returns a new \
            tensor, and only `reshaped` shares storage. Broadcasting aligns shapes from the right and stretches \
            axes of size 1. Matrix products are the one place where the loop order and the memory hierarchy decide \
            everything, so the engine hands every one of them to OpenBLAS's sgemm.
            Exercises: (1) predict the shape of [2, 1, 3] + [4, 1], then check it with Broadcasting.shape; \
            (2) swap the two inner loops of `naiveProduct` and measure again; (3) run with --threads 1 and \
            compare the OpenBLAS curve. The tests in Tests/AutogradTests (GraphTests, HandDerivedTests) check \
            the claims these exercises rely on.
            """)
        try chapter.finish()
    }
}

func storageAndStrides(_ chapter: Chapter) {
    chapter.section("1. Storage, shape, strides")
    chapter.say("""
        Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6]) keeps six floats in one contiguous buffer, row after row \
        (row-major). The strides say how far to move in the buffer for one step along each axis: [3, 1]. \
        Element [i, j] lives at offset i * 3 + j.
        """)
    let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
    print("  x = \(x)")
    print("  strides \(x.strides); x[1, 2] is at offset 1 * 3 + 2 = 5 and equals \(x[1, 2])")
    chapter.check(x.strides == [3, 1] && x[1, 2] == x.scalars[5], "element [1, 2] of a [2, 3] tensor sits at offset 5")

    chapter.say("""
        Reshaping only reinterprets the buffer: x.reshaped([3, 2]) shares x's storage (no copy). \
        Transposing cannot: the elements of a column are not next to each other, so `transposed()` copies \
        them into a new buffer, in the new order.
        """)
    let r = x.reshaped([3, 2]), t = x.transposed()
    print("  x.reshaped([3, 2]) = \(r.scalars)   same buffer: \(r.storage === x.storage)")
    print("  x.transposed()     = \(t.scalars)   same buffer: \(t.storage === x.storage)")
    chapter.check(r.storage === x.storage && t.storage !== x.storage && t.scalars == [1, 4, 2, 5, 3, 6],
                  "reshape shares storage; transpose copies into column order")
}

func broadcasting(_ chapter: Chapter) {
    chapter.section("2. Broadcasting")
    chapter.say("""
        Elementwise ops accept different shapes when they are compatible: align the shapes at the right; \
        each pair of sizes must be equal or contain a 1; a missing axis counts as 1. A column [3, 1] plus a \
        row [4] gives a [3, 4] table, without ever building the stretched copies: the kernel reads with a \
        stride of 0 along a broadcast axis. The backward pass sums the gradient over those axes.
        """)
    let column = Tensor(shape: [3, 1], [0, 10, 20]), row = Tensor([1, 2, 3, 4])
    let table = column + row
    print("  [3, 1] + [4] -> \(table.shape): \(table.scalars)")
    chapter.check(table.shape == [3, 4] && table[2, 3] == 24, "[3, 1] + [4] broadcasts to [3, 4] with table[i, j] = column[i] + row[j]")
    do {
        _ = try Broadcasting.shape([2, 3], [4], op: "add")
        chapter.check(false, "[2, 3] + [4] is rejected")
    } catch {
        print("  [2, 3] + [4] is an error: \(error)")
        chapter.check("\(error)".contains("[2, 3]") && "\(error)".contains("[4]"), "a shape error names the op and both shapes")
    }
}

// MARK: - 3. Why BLAS

/// The textbook triple loop on Swift arrays: for each output element, a dot product of a row of A
/// with a column of B. The column walk jumps n floats at a time, so nearly every load misses the cache.
func naiveProduct(_ a: [Float], _ b: [Float], n: Int) -> [Float] {
    var c = [Float](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<n { sum += a[i * n + p] * b[p * n + j] }
            c[i * n + j] = sum
        }
    }
    return c
}

/// The same arithmetic in i-p-j order on raw pointers: the inner loop walks a row of B and a row of C
/// contiguously, which the compiler turns into SIMD instructions. Still no blocking for the caches.
func cacheFriendlyProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, n: Int) {
    c.initialize(repeating: 0, count: n * n)
    for i in 0..<n {
        let row = c + i * n
        for p in 0..<n {
            let scale = a[i * n + p], bRow = b + p * n
            for j in 0..<n { row[j] += scale * bRow[j] }
        }
    }
}

/// Best time of repeated runs (at least `minimumSeconds` of runs, and at least 2).
func bestTime(minimumSeconds: Double, _ body: () -> Void) -> Double {
    var best = Double.infinity, total = 0.0, runs = 0
    while total < minimumSeconds || runs < 2 {
        let seconds = measure(body).seconds
        best = min(best, seconds)
        total += seconds
        runs += 1
    }
    return best
}

func whyBLAS(_ chapter: Chapter) throws {
    chapter.section("3. Why BLAS: a matrix product three ways")
    chapter.say("""
        A product of two n x n matrices costs 2 n^3 floating-point operations. We time three versions and \
        report GFLOP/s (billions of operations per second): the textbook loop, the same loop reordered for \
        the cache, and OpenBLAS's sgemm, which adds register tiling, cache blocking, packing and hand-written \
        SIMD kernels. With two threads the engine splits a large product into one block of rows per thread, \
        each a single-threaded sgemm (Sources/Autograd/Speed/BLAS.swift says why the engine, not OpenBLAS, owns the cores).
        """)
    let sizes = chapter.isQuick ? [32, 64, 128] : [32, 64, 128, 256, 384, 512, 768]
    let minimumSeconds = chapter.isQuick ? 0.02 : 0.15
    var rng = RandomGenerator(seed: chapter.options.seed)
    var rates: (naive: [Double], friendly: [Double], blas: [Double]) = ([], [], [])
    var worstDifference: Float = 0
    print("     n   naive GFLOP/s   cache-friendly   OpenBLAS   (max |difference| vs OpenBLAS)")
    for n in sizes {
        let a = Tensor.uniform([n, n], low: -1, high: 1, using: &rng), b = Tensor.uniform([n, n], low: -1, high: 1, using: &rng)
        let flops = 2 * pow(Double(n), 3)
        let arrayA = a.scalars, arrayB = b.scalars
        // The naive loop is slow: at the largest sizes one run is enough.
        var naive: [Float] = []
        let naiveSeconds = bestTime(minimumSeconds: n >= 512 ? 0 : minimumSeconds) { naive = naiveProduct(arrayA, arrayB, n: n) }
        let friendly = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { friendly.deallocate() }
        let friendlySeconds = bestTime(minimumSeconds: minimumSeconds) {
            cacheFriendlyProduct(a.storage.pointer, b.storage.pointer, friendly, n: n)
        }
        var product = Tensor.matmul(a, b)
        let blasSeconds = bestTime(minimumSeconds: minimumSeconds) { product = Tensor.matmul(a, b) }
        let reference = product.scalars
        let difference = zip(reference.indices, reference).map { i, value in
            max(abs(value - naive[i]), abs(value - friendly[i]))
        }.max() ?? 0
        worstDifference = max(worstDifference, difference)
        rates.naive.append(flops / naiveSeconds / 1e9)
        rates.friendly.append(flops / friendlySeconds / 1e9)
        rates.blas.append(flops / blasSeconds / 1e9)
        print(String(format: "  %4d   %13.2f   %14.2f   %8.1f   (%.1e)", n, rates.naive.last!, rates.friendly.last!,
                     rates.blas.last!, difference))
    }
    chapter.check(worstDifference < 1e-3, "all three products agree to within float rounding (max difference \(worstDifference))")
    let last = sizes.count - 1
    let speedup = rates.blas[last] / rates.naive[last]
    chapter.say(String(format: """
        At n = %d OpenBLAS is %.0fx faster than the textbook loop and %.1fx faster than the reordered loop. \
        The reordered loop is fast while a row of B stays in cache and falls off beyond; OpenBLAS holds \
        its rate because it blocks for every level of the memory hierarchy.
        """, sizes[last], speedup, rates.blas[last] / rates.friendly[last]))
    chapter.check(speedup > 10, String(format: "OpenBLAS beats the textbook loop by more than 10x at n = %d (%.0fx)", sizes[last], speedup))
    chapter.check(rates.blas[last] > rates.friendly[last] * 1.5,
                  String(format: "OpenBLAS beats the cache-friendly loop by more than 1.5x at n = %d (%.1fx)", sizes[last], rates.blas[last] / rates.friendly[last]))

    chapter.figure("01-gflops.png") { path throws(PlotError) in
        var figure = Figure(title: "Matrix product speed (\(BLAS.coreName), \(BLAS.threadCount) threads)",
                            xLabel: "matrix size n (n x n times n x n)", yLabel: "GFLOP/s")
        let x = sizes.map(Double.init)
        figure.add(.line(x: x, y: rates.blas, title: "OpenBLAS sgemm"))
        figure.add(.line(x: x, y: rates.friendly, title: "Swift, i-p-j loop on pointers"))
        figure.add(.line(x: x, y: rates.naive, title: "Swift, textbook i-j-p loop on arrays"))
        figure.logScaleX = true
        figure.logScaleY = true
        try figure.render(to: path)
    }
}
