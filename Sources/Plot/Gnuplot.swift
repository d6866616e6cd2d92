// Drawing with gnuplot through a pipe: the idea of gnuplot-iostream, in Swift, without C++.
// A figure becomes a gnuplot script (settings, inline data blocks `$D0 << EOD ... EOD`, one plot
// command), which is written to a `gnuplot` process's standard input. The PNG is drawn to a temporary
// file and renamed into place only when gnuplot succeeded, so a failed plot leaves no empty file.
import Foundation

/// Why a figure was not drawn.
public enum PlotError: Error, CustomStringConvertible {
    case gnuplotMissing
    case gnuplotFailed(status: Int32, message: String, script: String)
    case emptyOutput(path: String)
    case invalidData(String)
    case unwritable(path: String, reason: String)

    /// What went wrong, and how to get figures.
    public var description: String {
        switch self {
        case .gnuplotMissing:
            "gnuplot is not installed, so figures were skipped (numbers are still printed). Install it with `sudo apt-get install gnuplot-nox` (Debian/Ubuntu) or `brew install gnuplot` (macOS), or run `make deps`."
        case .gnuplotFailed(let status, let message, let script):
            "gnuplot exited with status \(status): \(message.prefix(2000))\n--- script (first lines) ---\n\(script.split(separator: "\n").prefix(30).joined(separator: "\n"))"
        case .emptyOutput(let path):
            "gnuplot wrote nothing to \(path)"
        case .invalidData(let reason):
            "cannot plot: \(reason)"
        case .unwritable(let path, let reason):
            "cannot write \(path): \(reason)"
        }
    }
}

/// gnuplot through a pipe.
public enum Gnuplot {
    /// The gnuplot executable on PATH, or nil.
    public static var executable: URL? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.map { URL(fileURLWithPath: String($0)).appendingPathComponent("gnuplot") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Whether gnuplot is on the PATH.
    public static var isAvailable: Bool { executable != nil }

    /// Runs `body` (a script without terminal or output settings) and writes a PNG to `path` atomically.
    public static func renderPNG(_ body: String, to path: String, width: Int = 800, height: Int = 500) throws(PlotError) {
        guard let executable else { throw .gnuplotMissing }
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .unwritable(path: path, reason: "there is a folder of that name; move it away or choose another --figures-dir")
        }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp.png").path
        let script = """
            set terminal pngcairo size \(width),\(height) enhanced font 'DejaVu Sans,10'
            set output '\(quoted(temporary))'
            \(body)
            unset output

            """
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try run(executable, script: script)
        let size = (try? FileManager.default.attributesOfItem(atPath: temporary)[.size] as? Int) ?? 0
        guard size > 0 else { throw .emptyOutput(path: path) }
        guard rename(temporary, path) == 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Feeds `script` to gnuplot's standard input and waits. gnuplot keeps going after an error and may
    /// write a lot to stderr, so stderr is drained on another thread while stdin is written.
    static func run(_ executable: URL, script: String) throws(PlotError) {
        signal(SIGPIPE, SIG_IGN)  // a gnuplot that exits early must not kill us through a broken pipe
        let process = Process()
        process.executableURL = executable
        let input = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw .gnuplotMissing }
        let collected = ErrorCollector()
        let reader = Thread { collected.data = errors.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        try? input.fileHandleForWriting.write(contentsOf: Data(script.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        while !collected.isDone { usleep(1000) }
        guard process.terminationStatus == 0 else {
            let message = String(data: collected.data ?? Data(), encoding: .utf8) ?? ""
            throw .gnuplotFailed(status: process.terminationStatus, message: message, script: script)
        }
    }

    /// Escapes a string for a single-quoted gnuplot string (a quote is doubled).
    static func quoted(_ text: String) -> String { text.replacingOccurrences(of: "'", with: "''") }
}

/// Holds stderr read on another thread until the process ends.
private final class ErrorCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Data?
    var data: Data? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    var isDone: Bool { data != nil }
}
