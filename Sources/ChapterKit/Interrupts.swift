// An interrupted run leaves no half-written file. Every file the project writes goes first to a hidden
// temporary file named after the process (".name.<pid>.tmp..."), then is renamed into place. A `defer` that
// removes the temporary file does not run when the process is killed by a signal, so a chapter also:
//   - catches SIGINT (Ctrl-C) and SIGTERM on a dispatch queue, removes its own temporary files from its
//     output folders, and exits with status 130 (128 + SIGINT) or 143;
//   - at start, removes temporary files left in its output folders by processes that no longer exist
//     (a run killed with SIGKILL, which nothing can catch).
import Dispatch
import Foundation

/// The folders a run writes into, and the signal handlers that clean them.
enum Interrupts {
    nonisolated(unsafe) static var folders: Set<String> = []
    static let lock = NSLock()
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    /// Watches `folder`: stale temporary files of dead processes are removed now, this process's own on a signal.
    static func watch(_ folder: URL) {
        lock.lock()
        let isNew = folders.insert(folder.path).inserted
        lock.unlock()
        if isNew { removeTemporaryFiles(in: folder.path) { pid in pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH } }
    }

    /// Installs the SIGINT and SIGTERM handlers (once).
    static func installHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for (number, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(number, SIG_IGN)  // the dispatch source receives it instead
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                lock.lock()
                let watched = folders
                lock.unlock()
                let removed = watched.reduce(0) { $0 + removeTemporaryFiles(in: $1) { $0 == getpid() } }
                print("\ninterrupted: stopped\(removed > 0 ? ", \(removed) temporary file\(removed == 1 ? "" : "s") removed" : ""); finished files are untouched")
                fflush(nil)
                exit(status)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Removes files named ".<anything>.<pid>.tmp<anything>" in `folder` whose pid satisfies `belongs`.
    @discardableResult
    static func removeTemporaryFiles(in folder: String, where belongs: (Int32) -> Bool) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(".") && name.contains(".tmp") {
            let parts = name.split(separator: ".")
            guard let index = parts.firstIndex(where: { $0.hasPrefix("tmp") }), index > 0, let pid = Int32(parts[index - 1]), belongs(pid) else { continue }
            if unlink(folder + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }
}
