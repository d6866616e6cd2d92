// swift-tools-version: 6.0
// data2vec, from scratch, in Swift. The module layout is described in README.md ("Layout").
import PackageDescription

// `-target-cpu haswell` (AVX2 + FMA, any x86-64 CPU since 2013) vectorizes the element kernels;
// it is the single largest speed lever for pure-Swift loops (see README, "Speed").
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
/// The sixteen-lane copy of the element kernels (Sources/WideKernels), run only on CPUs with AVX-512.
let wideCPUFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "skylake-avx512"])]
#else
let cpuFlags: [SwiftSetting] = []
let wideCPUFlags: [SwiftSetting] = []
#endif

/// Numeric modules are optimized even in debug builds, so `swift test` runs at release speed.
/// SwiftPM appends this `-O` after its own `-Onone`; the last one wins and `@testable` still works.
let numericSettings: [SwiftSetting] = cpuFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

/// Every chapter is an executable `chNN-slug` whose source is `chapters/NN-slug/`.
func chapter(_ number: String, _ slug: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: "ch\(number)-\(slug)",
        dependencies: dependencies + ["ChapterKit", argumentParser],
        path: "chapters/\(number)-\(slug)",
        swiftSettings: numericSettings)
}

let package = Package(
    name: "data2vec-swift",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "Data2Vec", targets: ["Data2Vec"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Plot", targets: ["Plot"]),
        .library(name: "ChapterKit", targets: ["ChapterKit"]),
        .library(name: "Interop", targets: ["Interop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` builds the DocC catalog (Sources/Data2Vec/Data2Vec.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .target(name: "WideKernels", swiftSettings: wideCPUFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "Autograd", dependencies: ["COpenBLAS", "WideKernels"], exclude: ["Speed/README.md"], swiftSettings: numericSettings),
        .target(name: "NN", dependencies: ["Autograd"], swiftSettings: numericSettings),
        .target(name: "Optim", dependencies: ["Autograd"], swiftSettings: numericSettings),
        .target(name: "Data2Vec", dependencies: ["Autograd", "NN", "Optim", "Datasets"], swiftSettings: numericSettings),
        .target(name: "Datasets", dependencies: ["Autograd"], swiftSettings: numericSettings),
        .target(name: "Evaluation", dependencies: ["Autograd", "NN", "Optim", "COpenBLAS"], swiftSettings: numericSettings),
        .target(name: "Interop", dependencies: ["Autograd", "NN", "Data2Vec", "Datasets"], swiftSettings: numericSettings),
        .target(name: "Plot"),
        .target(name: "ChapterKit", dependencies: ["Autograd", "Plot", argumentParser]),

        chapter("01", "tensors", ["Autograd", "Plot", "COpenBLAS"]),
        chapter("02", "autograd", ["Autograd", "Plot"]),
        chapter("03", "transformer", ["Autograd", "NN", "Optim", "Datasets", "Plot"]),
        chapter("04", "data2vec", ["Autograd", "NN", "Optim", "Data2Vec", "Plot"]),
        chapter("05", "vision", ["Autograd", "NN", "Optim", "Data2Vec", "Datasets", "Evaluation", "Interop", "Plot"]),
        chapter("06", "speech", ["Autograd", "NN", "Optim", "Data2Vec", "Datasets", "Evaluation", "Interop", "Plot"]),
        chapter("07", "text", ["Autograd", "NN", "Optim", "Data2Vec", "Datasets", "Evaluation", "Interop", "Plot"]),
        chapter("08", "ablations", ["Autograd", "NN", "Optim", "Data2Vec", "Datasets", "Evaluation", "Plot"]),

        .executableTarget(
            name: "bench-mlp",
            dependencies: ["Autograd", "COpenBLAS", argumentParser],
            path: "benchmarks/mlp-step",
            swiftSettings: numericSettings),
        .executableTarget(
            name: "bench-data2vec",
            dependencies: ["Autograd", "NN", "Optim", "Data2Vec", argumentParser],
            path: "benchmarks/data2vec-step",
            swiftSettings: numericSettings),

        // The harnesses of the trials that docs/deviations.md cites (results/trials/).
        .executableTarget(name: "trial-ch07-sst2", dependencies: ["Autograd", "NN", "Optim", "Data2Vec", "Datasets", "Evaluation"],
                          path: "results/trials/ch07-sst2", swiftSettings: numericSettings),

        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "WideKernels"], exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "NNTests", dependencies: ["NN", "Autograd"], exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "NN", "Autograd"], swiftSettings: numericSettings),
        .testTarget(name: "Data2VecTests", dependencies: ["Data2Vec", "NN", "Optim", "Autograd", "Datasets", "ChapterKit"], swiftSettings: numericSettings),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Autograd"], exclude: ["Fixtures"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "NN", "Optim", "Autograd"], exclude: ["Fixtures"], swiftSettings: numericSettings),
        .testTarget(name: "ExerciseTests", dependencies: ["Autograd", "NN", "Optim", "Data2Vec", "Datasets", "Evaluation"],
                    swiftSettings: numericSettings),
        .testTarget(name: "PlotTests", dependencies: ["Plot"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Data2Vec", "Datasets", "NN", "Autograd"], exclude: ["Fixtures"],
                    swiftSettings: numericSettings),
        .testTarget(name: "ChapterKitTests", dependencies: ["ChapterKit"]),
        .testTarget(name: "DocumentTests"),
    ])
