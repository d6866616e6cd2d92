// Figures: the generated gnuplot script, and real PNGs when gnuplot is installed.
import Foundation
@testable import Plot
import Testing

@Suite("Plot")
struct PlotTests {
    func lineFigure() -> Figure {
        var figure = Figure(title: "it's a test", xLabel: "step", yLabel: "loss")
        figure.add(.line(x: [1, 2, 3], y: [3, 2, .nan], title: "train"))
        figure.add(.points(x: [1], y: [1], title: "marker", color: 3))
        return figure
    }

    @Test func scriptHoldsDataBlocksAndQuotedTitles() throws {
        let script = try lineFigure().script()
        #expect(script.contains("set title 'it''s a test'"))
        #expect(script.contains("$D0 << EOD\n1.0 3.0\n2.0 2.0\n3.0 NaN\nEOD"))
        #expect(script.contains("plot $D0 using 1:2 with lines"))
        #expect(script.contains("lc 4"))
    }

    /// Bars with ranges: each series' value, low and high side by side, drawn as gnuplot's histogram errorbars.
    @Test func barsWithRangesCarryLowAndHigh() throws {
        var figure = Figure(title: "bars")
        figure.add(.bars(categories: ["a", "b"], series: [("x", [1, 2]), ("y", [3, 4])], ranges: [([0.5, 1.5], [1.5, 2.5]), ([3, 4], [3, 4])]))
        let script = try figure.script()
        #expect(script.contains("\"a\" 1.0 0.5 1.5 3.0 3.0 3.0\n\"b\" 2.0 1.5 2.5 4.0 4.0 4.0"))
        #expect(script.contains("set style histogram errorbars"))
        #expect(script.contains("using 2:3:4:xtic(1) title 'x'") && script.contains("using 5:6:7 title 'y'"))
        var short = Figure(title: "short ranges")
        short.add(.bars(categories: ["a", "b"], series: [("x", [1, 2])], ranges: [([0.5], [1.5])]))
        #expect(throws: PlotError.self) { try short.script() }
    }

    @Test func badDataIsAnErrorNotACrash() {
        var figure = Figure(title: "bad")
        figure.add(.line(x: [1, 2], y: [1], title: "mismatched"))
        #expect(throws: PlotError.self) { try figure.script() }
        #expect(throws: PlotError.self) { try Figure(title: "empty").script() }
        var heatmap = Figure(title: "ragged")
        heatmap.add(.heatmap(values: [[1, 2], [3]], xRange: 0...1, yRange: 0...1))
        #expect(throws: PlotError.self) { try heatmap.script() }
    }

    /// An image grid's overall title is wrapped at spaces to the figure's width, so it is never cut off.
    @Test func gridTitlesWrapAtSpaces() {
        #expect(ImageGrid.wrap("block masks (white = masked) and what the student sees", width: 20)
                == ["block masks (white =", "masked) and what the", "student sees"])
        #expect(ImageGrid.wrap("", width: 10).isEmpty)
        #expect(ImageGrid.wrap("supercalifragilistic ok", width: 5) == ["supercalifragilistic", "ok"])
    }

    @Test(.enabled(if: Gnuplot.isAvailable, "needs gnuplot"))
    func writesAPNGAtomically() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plot-tests-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("line.png").path
        try lineFigure().render(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])  // the PNG signature
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["line.png"])  // no temporary left
        var bars = Figure(title: "bars")
        bars.add(.bars(categories: ["a", "b"], series: [("x", [1, 2]), ("y", [2, 1])], ranges: [([0.5, 1.5], [1.5, 2.5]), ([2, 1], [2, 1])]))
        try bars.render(to: folder.appendingPathComponent("bars.png").path)
        try ImageGrid.render([[Float](repeating: 0.5, count: 16), (0..<16).map(Float.init)], width: 4, height: 4, columns: 2,
                             titles: ["flat", "ramp"], title: "a \"quoted\" title long enough to wrap onto a second line", colorRange: 0...15, to: folder.appendingPathComponent("grid.png").path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["bars.png", "grid.png", "line.png"])
        try? FileManager.default.removeItem(at: folder)
    }

    @Test(.enabled(if: Gnuplot.isAvailable, "needs gnuplot"))
    func aFailingScriptLeavesNoFile() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plot-fail-\(UUID().uuidString).png").path
        #expect(throws: PlotError.self) { try Gnuplot.renderPNG("plot $NOSUCHBLOCK using 1:2", to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
