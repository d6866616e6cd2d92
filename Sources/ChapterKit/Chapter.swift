// A chapter run: a header, numbered sections, checked claims, figures, and a summary at the end.
//
//     let chapter = Chapter(number: 2, title: "Automatic differentiation", options: options)
//     chapter.section("1. A scalar engine")
//     chapter.check(accuracy > 0.95, "the MLP separates the two moons (accuracy \(accuracy))")
//     chapter.figure("02-loss.png") { path in try figure.render(to: path) }
//     try chapter.finish()
import ArgumentParser
import Autograd
import Foundation
import Plot

/// A chapter run: the header, numbered sections, checked claims, figures, and the summary at the end.
public final class Chapter {
    /// The chapter's number (the NN of chNN-slug).
    public let number: Int
    /// The shared command line.
    public let options: ChapterOptions
    /// The claims that turned out false (the run exits with status 1 at `finish()`).
    public private(set) var failedClaims: [String] = []
    /// How many claims held.
    public private(set) var passedClaims = 0
    /// The paths of the figures drawn.
    public private(set) var figuresWritten: [String] = []
    private var warnedAboutGnuplot = false
    private let start = Date()

    /// Prints the header, applies `--threads`, and checks that the figures folder can be written.
    public init(number: Int, title: String, options: ChapterOptions) throws {
        self.number = number
        self.options = options
        if let threads = options.threads { BLAS.setThreadCount(threads) }
        let rule = String(repeating: "=", count: 78)
        print(rule)
        print(String(format: "Chapter %02d: %@", number, title))
        print("mode: \(options.quick ? "quick" : "full"), seed \(options.seed), \(BLAS.threadCount) threads")
        print("OpenBLAS kernels: \(KernelChoice.report)")
        print("element kernels: \(LaneWidth.report)")
        print(rule)
        if let problem = LaneWidth.environmentError { throw ChapterError(problem) }
        try requireWritableFolder(options.figuresDirectory, flag: "--figures-dir")
        Interrupts.installHandlers()
        Interrupts.watch(options.figuresDirectory)
    }

    /// Checks that `folder` can be written (see `requireWritableFolder`) and cleans it of temporary files
    /// when the run is interrupted.
    public func requireOutputFolder(_ folder: URL, flag: String) throws {
        try requireWritableFolder(folder, flag: flag)
        Interrupts.watch(folder)
    }

    /// Whether this is a `--quick` run.
    public var isQuick: Bool { options.quick }

    /// Prints a section heading.
    public func section(_ title: String) {
        print("\n## \(title)\n")
        fflush(nil)  // show progress promptly even when output goes through a pipe (make, CI)
    }

    /// Prints a paragraph of prose (wrapped to 100 columns).
    public func say(_ text: String) {
        print(wrap(text, width: 100))
        print()
    }

    /// Records a claim made in the prose. A false claim is printed and fails the run at `finish()`.
    public func check(_ condition: Bool, _ claim: String) {
        if condition {
            passedClaims += 1
            print("  [ok] \(claim)")
            fflush(nil)
        } else {
            failedClaims.append(claim)
            print("  [FAILED] \(claim)")
        }
    }

    /// Reports whether a goal the chapter aims for was reached, without failing the run when it was not: the
    /// result is shown either way ("[yes]" or "[no]"), and the prose says why. Claims the chapter relies on use
    /// `check(_:_:)` instead.
    public func outcome(_ reached: Bool, _ goal: String) {
        print("  [\(reached ? "yes" : "no")] \(goal)")
        outcomes.append((goal, reached))
        fflush(nil)
    }

    /// Every goal reported with `outcome(_:_:)`, and whether it was reached.
    public private(set) var outcomes: [(goal: String, reached: Bool)] = []

    /// Draws a figure to `<figures dir>/<name>` with `draw(path)`. Without gnuplot it says so once and
    /// goes on; any other plotting error is reported and fails the run.
    public func figure(_ name: String, _ draw: (String) throws(PlotError) -> Void) {
        let url = options.figuresDirectory.appendingPathComponent(name)
        let path = url.path
        do {
            try draw(path)
            figuresWritten.append(path)
            print("  figure: \(url.relativePath)")
        } catch .gnuplotMissing {
            if !warnedAboutGnuplot { print("  note: \(PlotError.gnuplotMissing)") }
            warnedAboutGnuplot = true
        } catch {
            failedClaims.append("figure \(name) is drawn")
            print("  [FAILED] figure \(name): \(error)")
        }
    }

    /// Stops with a clear message when a training loss is not a finite number.
    public func requireFinite(_ value: Float, _ what: String, step: Int) throws {
        guard value.isFinite else {
            throw ChapterError("\(what) became \(value) at step \(step): training diverged. Lower the learning rate or check the inputs.")
        }
    }

    /// Prints the summary; throws (exit code 1) when a claim failed.
    public func finish() throws {
        let seconds = Date().timeIntervalSince(start)
        print("\n" + String(repeating: "-", count: 78))
        let missed = outcomes.filter { !$0.reached }.count
        print(String(format: "Chapter %02d done in %.1f s: %d claims checked, %d failed, %d figures written%@.",
                     number, seconds, passedClaims + failedClaims.count, failedClaims.count, figuresWritten.count,
                     outcomes.isEmpty ? "" : "; goals reached: \(outcomes.count - missed) of \(outcomes.count)"))
        if !failedClaims.isEmpty {
            for claim in failedClaims { print("  failed: \(claim)") }
            throw ExitCode.failure
        }
    }
}

/// An error a chapter reports and stops on.
public struct ChapterError: Error, CustomStringConvertible {
    /// The message.
    public let description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
}

/// Greedy word wrap that keeps existing line breaks.
func wrap(_ text: String, width: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { paragraph -> String in
        var lines: [String] = [], current = ""
        for word in paragraph.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        lines.append(current)
        return lines.joined(separator: "\n")
    }.joined(separator: "\n")
}
