// Output paths are checked before any work starts: a wrong --figures-dir or --checkpoint should stop the run
// in its first second with a message naming the path, not after minutes of training.
import Foundation

/// Makes `folder` (and its parents) if needed and checks that a file can be created in it.
/// Throws a `ChapterError` that names `flag` and the reason.
public func requireWritableFolder(_ folder: URL, flag: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else {
            throw ChapterError("\(flag) \(folder.path): this is a file, not a folder; give a folder path")
        }
    } else {
        // The nearest part of the path that exists must be a folder: "afile/sub" cannot be made inside a file.
        var ancestor = folder.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) && ancestor.path != "/" {
            ancestor = ancestor.deletingLastPathComponent()
        }
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ChapterError("\(flag) \(folder.path): \(ancestor.path) is a file, so no folder can be made inside it; give a folder path")
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw ChapterError("\(flag) \(folder.path): cannot create the folder (\(systemReason(error))); give a folder you can write to")
        }
    }
    // Unique per call, not only per process: two checks of one folder may run at once (the tests run in parallel).
    // Named like every temporary file (".name.<pid>.tmp"), so that a run killed mid-check leaves nothing behind
    // for long (Interrupts.swift).
    let probe = folder.appendingPathComponent(".write-check-\(UInt64.random(in: 0...UInt64.max)).\(getpid()).tmp").path
    let descriptor = open(probe, O_CREAT | O_EXCL | O_WRONLY, 0o600)
    guard descriptor >= 0 else {
        throw ChapterError("\(flag) \(folder.path): cannot write there (\(String(cString: strerror(errno)))); give a folder you can write to")
    }
    close(descriptor)
    unlink(probe)
}

/// The reason inside a Foundation file error ("Permission denied"), without the NSCocoaErrorDomain wrapping.
func systemReason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
       let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
        return String(cString: strerror(code.rawValue))
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
    return nsError.localizedDescription
}

extension Chapter {
    /// Before any work: with `reading`, checks that the file at `url` exists and is a readable file; otherwise
    /// that it can be written (its folder exists or can be made, and is writable; the path is not a folder).
    public func requireOutputFile(_ url: URL, flag: String, reading: Bool = false) throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if exists && isDirectory.boolValue { throw ChapterError("\(flag) \(url.path): this is a folder; give a file path") }
        if reading {
            guard exists else { throw ChapterError("\(flag) \(url.path): no such file; run once without --reuse-checkpoint to create it") }
            guard FileManager.default.isReadableFile(atPath: url.path) else { throw ChapterError("\(flag) \(url.path): the file cannot be read") }
        } else {
            try requireOutputFolder(url.deletingLastPathComponent(), flag: flag)
        }
    }
}

/// Where a copy of a checkpoint saved after `step` steps goes: `name.safetensors` -> `name-step01250.safetensors`, beside it.
public func snapshotURL(_ checkpoint: URL, step: Int) -> URL {
    let stem = checkpoint.deletingPathExtension().lastPathComponent
    return checkpoint.deletingLastPathComponent().appendingPathComponent(String(format: "%@-step%05d.safetensors", stem, step))
}
