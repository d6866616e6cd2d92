// The one way the project writes a file: to a hidden temporary file beside it, named after the process
// (".name.<pid>.tmp"), then renamed over the target. A reader never sees a half-written file, two runs never
// rename each other's, and a run stopped by Ctrl-C or `kill` leaves no temporary behind: ChapterKit's signal
// handler and its start-up sweep remove files of exactly this name (Sources/ChapterKit/Interrupts.swift).
// Checkpoints, .npy arrays, the tokenizer's files and the chapters' other outputs all go through here; gnuplot,
// which writes its PNG itself, is given a temporary of the same form (Sources/Plot/Gnuplot.swift).
import Foundation

/// Writes files so that they appear whole or not at all.
public enum AtomicFile {
    /// Why a file could not be written: the path and the reason, in words.
    public struct WriteError: Error, CustomStringConvertible, Equatable {
        /// The file that was to be written.
        public let path: String
        /// What went wrong ("No space left on device", "there is a folder of that name").
        public let reason: String
        /// "cannot write PATH: REASON".
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// The temporary file `write` uses for `url`: ".<name>.<pid>.tmp" in the same folder.
    public static func temporary(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    }

    /// Writes `data` to `url` through the temporary file and a rename. The folder is made when missing.
    public static func write(_ data: Data, to url: URL) throws(WriteError) {
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw WriteError(path: url.path, reason: "there is a folder of that name; move it away or choose another path")
        }
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw WriteError(path: url.path, reason: "\(folder.path) is a file, not a folder")
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw WriteError(path: url.path, reason: "cannot create the folder \(folder.path)")
        }
        let temporary = temporary(for: url)
        let descriptor = open(temporary.path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        guard descriptor >= 0 else { throw WriteError(path: url.path, reason: String(cString: strerror(errno))) }
        var failure: String?
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if close(descriptor) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil && rename(temporary.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw WriteError(path: url.path, reason: failure)
        }
    }

    /// Writes `text` as UTF-8.
    public static func write(_ text: String, to url: URL) throws(WriteError) { try write(Data(text.utf8), to: url) }
}
