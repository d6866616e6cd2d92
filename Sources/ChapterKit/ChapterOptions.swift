// The command line every chapter shares.
import ArgumentParser
import Foundation

/// The flags every chapter takes.
public struct ChapterOptions: ParsableArguments {
    /// `--quick`: a small version in seconds.
    @Flag(help: "Run a small version in seconds (what CI runs). Figures then go to a temporary folder.")
    public var quick = false

    /// `--seed`: seeds every random choice.
    // `.unconditional`: "--seed -1" is read as a value (and refused as not a UInt64), not as a missing one.
    @Option(parsing: .unconditional, help: "Seed for every random choice (initialization, data order, masks): 0 to 18446744073709551615.")
    public var seed: UInt64 = 0

    /// `--data-dir`: the folder holding vision/, speech/ and text/.
    @Option(help: "Folder holding the datasets.")
    public var dataDir = "data"

    /// `--figures-dir`: where figures go.
    @Option(help: "Folder for the figures (default: figures/, or a temporary folder with --quick).")
    public var figuresDir: String?

    /// `--threads`: threads for the products and the engine.
    // `.unconditional`: "--threads -3" is read as a value (and refused by `validate`), not as a missing one.
    @Option(parsing: .unconditional, help: "Threads for OpenBLAS's matrix products (default: one per core).")
    public var threads: Int?

    /// The defaults (for tests; the command line fills them in).
    public init() {}

    /// Rejects a thread count outside 1...256.
    public func validate() throws {
        if let threads, threads < 1 || threads > 256 {
            throw ValidationError("--threads must be between 1 and 256, got \(threads)")
        }
    }

    /// Where figures are written: `--figures-dir`, else `figures` in full mode, else a temporary folder
    /// (a quick run must not overwrite the committed full-run figures).
    public var figuresDirectory: URL {
        if let figuresDir { return URL(fileURLWithPath: figuresDir) }
        if quick { return FileManager.default.temporaryDirectory.appendingPathComponent("data2vec-swift-quick-figures") }
        return URL(fileURLWithPath: "figures")
    }
}
