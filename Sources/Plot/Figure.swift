// A figure: axes settings plus layers (lines, points, a heatmap, bars), rendered by gnuplot.
//
//     var figure = Figure(title: "Training loss", xLabel: "step", yLabel: "loss")
//     figure.add(.line(x: steps, y: losses, title: "train"))
//     try figure.render(to: "figures/02-loss.png")
import Foundation

/// A figure: axes settings plus layers, rendered to PNG by gnuplot.
public struct Figure {
    /// One thing drawn in the axes.
    public enum Layer {
        /// A polyline through (x, y).
        case line(x: [Double], y: [Double], title: String, width: Double = 2)
        /// Markers at (x, y); `color` indexes gnuplot's default palette (a category, e.g. a digit).
        case points(x: [Double], y: [Double], title: String, color: Int? = nil, size: Double = 0.6)
        /// A grid of values drawn as colours: `values[row][column]`, row 0 at `yRange.lowerBound`.
        case heatmap(values: [[Double]], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>)
        /// Grouped bars: one group per category, one bar per series; with `ranges`, each bar also gets an
        /// error bar from `low` to `high` (e.g. the range over seeds), one range per series and category.
        case bars(categories: [String], series: [(title: String, values: [Double])], ranges: [(low: [Double], high: [Double])]? = nil)
        /// A polyline through (x, y) with a vertical bar from `low` to `high` at each point (e.g. the range over seeds).
        case lineWithRanges(x: [Double], y: [Double], low: [Double], high: [Double], title: String)
    }

    /// The title above the axes.
    public var title: String
    /// The x axis label.
    public var xLabel: String
    /// The y axis label.
    public var yLabel: String
    /// A logarithmic x axis.
    public var logScaleX = false
    /// A logarithmic y axis.
    public var logScaleY = false
    /// Fixed x limits (else gnuplot chooses).
    public var xRange: ClosedRange<Double>?
    /// Fixed y limits (else gnuplot chooses).
    public var yRange: ClosedRange<Double>?
    /// Extra gnuplot commands, placed before the plot command (e.g. "set key bottom right").
    public var extraSettings: [String] = []
    /// The PNG's size in pixels.
    public var width = 800, height = 500
    /// What is drawn, in order.
    public private(set) var layers: [Layer] = []

    /// An empty figure.
    public init(title: String, xLabel: String = "", yLabel: String = "") {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// Adds a layer on top.
    public mutating func add(_ layer: Layer) { layers.append(layer) }

    /// Draws the figure to a PNG at `path` (written atomically).
    public func render(to path: String) throws(PlotError) {
        try Gnuplot.renderPNG(script(), to: path, width: width, height: height)
    }

    /// Draws several figures stacked vertically in one PNG (each keeps its own title, axes and key);
    /// `heights` are the panels' relative heights.
    public static func renderStacked(_ panels: [Figure], heights: [Double]? = nil, to path: String, width: Int = 800, height: Int = 900) throws(PlotError) {
        guard !panels.isEmpty else { throw .invalidData("no panels to stack") }
        let weights = heights ?? [Double](repeating: 1, count: panels.count)
        guard weights.count == panels.count, weights.allSatisfy({ $0 > 0 }) else { throw .invalidData("one positive height per panel") }
        let total = weights.reduce(0, +)
        var lines = ["set multiplot"]
        var top = 1.0
        for (panel, weight) in zip(panels, weights) {
            let size = weight / total
            lines += ["reset", "set origin 0,\(top - size)", "set size 1,\(size)", try panel.script()]
            top -= size
        }
        lines.append("unset multiplot")
        try Gnuplot.renderPNG(lines.joined(separator: "\n"), to: path, width: width, height: height)
    }

    /// The gnuplot commands for this figure (without terminal and output settings).
    public func script() throws(PlotError) -> String {
        guard !layers.isEmpty else { throw .invalidData("the figure '\(title)' has no layers") }
        var lines = [
            "set title '\(Gnuplot.quoted(title))'",
            "set xlabel '\(Gnuplot.quoted(xLabel))'",
            "set ylabel '\(Gnuplot.quoted(yLabel))'",
            "set grid",
            "set key below",
        ]
        if logScaleX { lines.append("set logscale x") }
        if logScaleY { lines.append("set logscale y") }
        if let xRange { lines.append("set xrange [\(xRange.lowerBound):\(xRange.upperBound)]") }
        if let yRange { lines.append("set yrange [\(yRange.lowerBound):\(yRange.upperBound)]") }
        var plots: [String] = []
        for (index, layer) in layers.enumerated() {
            let name = "$D\(index)"
            switch layer {
            case .line(let x, let y, let title, let width):
                try lines.append(dataBlock(name, columns: [x, y]))
                plots.append("\(name) using 1:2 with lines lw \(width) title '\(Gnuplot.quoted(title))'")
            case .lineWithRanges(let x, let y, let low, let high, let title):
                try lines.append(dataBlock(name, columns: [x, y, low, high]))
                plots.append("\(name) using 1:2:3:4 with yerrorlines lw 2 pt 7 title '\(Gnuplot.quoted(title))'")
            case .points(let x, let y, let title, let color, let size):
                try lines.append(dataBlock(name, columns: [x, y]))
                let colour = color.map { " lc \($0 + 1)" } ?? ""
                plots.append("\(name) using 1:2 with points pt 7 ps \(size)\(colour) title '\(Gnuplot.quoted(title))'")
            case .heatmap(let values, let xRange, let yRange):
                guard let columns = values.first?.count, columns > 1, values.count > 1, values.allSatisfy({ $0.count == columns }) else {
                    throw .invalidData("a heatmap needs a rectangular grid of at least 2 x 2 values")
                }
                var rows: [String] = []
                for (r, row) in values.enumerated() {
                    let y = yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double(r) / Double(values.count - 1)
                    for (c, value) in row.enumerated() {
                        let x = xRange.lowerBound + (xRange.upperBound - xRange.lowerBound) * Double(c) / Double(columns - 1)
                        rows.append("\(x) \(y) \(finite(value))")
                    }
                }
                lines.append("\(name) << EOD\n\(rows.joined(separator: "\n"))\nEOD")
                lines.append("set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 1 '#b2182b')")
                plots.append("\(name) using 1:2:3 with image notitle")
            case .bars(let categories, let series, let ranges):
                guard series.allSatisfy({ $0.values.count == categories.count }) else {
                    throw .invalidData("every bar series needs one value per category (\(categories.count))")
                }
                if let ranges, ranges.count != series.count || !ranges.allSatisfy({ $0.low.count == categories.count && $0.high.count == categories.count }) {
                    throw .invalidData("bar ranges need one low and one high per series (\(series.count)) and category (\(categories.count))")
                }
                // Columns per series: the value, then (with ranges) its low and high.
                let rows = categories.indices.map { i in
                    "\"\(categories[i])\" " + series.indices.map { s in
                        ([series[s].values[i]] + (ranges.map { [$0[s].low[i], $0[s].high[i]] } ?? [])).map(finite).joined(separator: " ")
                    }.joined(separator: " ")
                }
                lines.append("\(name) << EOD\n\(rows.joined(separator: "\n"))\nEOD")
                lines += ["set style data histogram", ranges == nil ? "set style histogram cluster gap 1" : "set style histogram errorbars gap 1 lw 1",
                          "set style fill solid 0.8 border -1", "set boxwidth 0.9"]
                let width = ranges == nil ? 1 : 3
                for (s, bar) in series.enumerated() {
                    let column = 2 + s * width
                    let using = ranges == nil ? "\(column)" : "\(column):\(column + 1):\(column + 2)"
                    plots.append("\(name) using \(using)\(s == 0 ? ":xtic(1)" : "") title '\(Gnuplot.quoted(bar.title))'")
                }
            }
        }
        lines += extraSettings
        lines.append("plot " + plots.joined(separator: ", \\\n     "))
        return lines.joined(separator: "\n")
    }

    /// An inline data block with one row per point.
    func dataBlock(_ name: String, columns: [[Double]]) throws(PlotError) -> String {
        guard let n = columns.first?.count, columns.allSatisfy({ $0.count == n }) else {
            throw .invalidData("the columns of \(name) differ in length: \(columns.map(\.count))")
        }
        let rows = (0..<n).map { i in columns.map { finite($0[i]) }.joined(separator: " ") }
        return "\(name) << EOD\n\(rows.joined(separator: "\n"))\nEOD"
    }
}

/// A number as gnuplot reads it; NaN and infinities become "NaN" (gnuplot skips such points).
func finite(_ value: Double) -> String { value.isFinite ? "\(value)" : "NaN" }

/// Grids of small images.
public enum ImageGrid {
    /// Draws grayscale images (each `width * height` values, row-major, any range) in a grid with
    /// `columns` columns and an optional title per image. Used for masked MNIST examples.
    /// With `colorRange`, every image uses that one range (so panels can be compared) and a key is drawn.
    public static func render(
        _ images: [[Float]], width: Int, height: Int, columns: Int, titles: [String]? = nil,
        title: String = "", colorRange: ClosedRange<Double>? = nil, to path: String, cellSize: Int = 160
    ) throws(PlotError) {
        guard !images.isEmpty, images.allSatisfy({ $0.count == width * height }) else {
            throw .invalidData("every image needs \(width) x \(height) values")
        }
        let rows = (images.count + columns - 1) / columns
        // The layout in pixels: a band on top for the overall title (wrapped to the figure's width, about
        // 8 pixels per character), a band above every row for the panels' own titles, and a strip on the right
        // for the colour key. Margins and spacing are given to gnuplot as fractions of the figure.
        let keyWidth = colorRange == nil ? 0 : 70
        let figureWidth = columns * cellSize + keyWidth
        let titleLines = ImageGrid.wrap(title, width: max(20, figureWidth / 8))
        let titleBand = titleLines.isEmpty ? 0 : 12 + 20 * titleLines.count
        let panelTitleBand = (titles ?? []).contains { !$0.isEmpty } ? 40 : 4
        let figureHeight = rows * (cellSize + panelTitleBand) + titleBand
        let top = 1 - Double(titleBand + panelTitleBand) / Double(figureHeight)
        let right = 1 - Double(keyWidth + 4) / Double(figureWidth)
        let spacing = (x: 4 / Double(figureWidth), y: Double(panelTitleBand) / Double(figureHeight))
        // A double-quoted gnuplot string, where \n breaks the line.
        let overallTitle = titleLines.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
            .joined(separator: "\\n")
        var lines = ["set multiplot layout \(rows),\(columns) title \"\(overallTitle)\" "
                        + "margins 0.01,\(right),0.01,\(top) spacing \(spacing.x),\(spacing.y)",
                     "unset key", "unset tics", "unset colorbox", "set palette gray", "set size ratio -1",
                     "set yrange [] reverse"]
        if let colorRange { lines.append("set cbrange [\(colorRange.lowerBound):\(colorRange.upperBound)]") }
        for (i, image) in images.enumerated() {
            let name = "$I\(i)"
            let matrix = (0..<height).map { r in (0..<width).map { "\(image[r * width + $0])" }.joined(separator: " ") }
            lines.append("\(name) << EOD\n\(matrix.joined(separator: "\n"))\nEOD")
            lines.append("set title '\(Gnuplot.quoted(titles?[i] ?? ""))'")
            if colorRange != nil && i == images.count - 1 { lines.append("set colorbox") }
            lines.append("plot \(name) matrix with image")
        }
        lines.append("unset multiplot")
        try Gnuplot.renderPNG(lines.joined(separator: "\n"), to: path, width: figureWidth, height: figureHeight)
    }

    /// `text` in lines of at most `width` characters, broken at spaces (a longer word gets a line of its own).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
