// The chapters' shared command line and claim checking.
@testable import ChapterKit
import Foundation
import Testing

@Suite("ChapterKit")
struct ChapterKitTests {
    @Test func parsesTheSharedOptions() throws {
        let options = try ChapterOptions.parse(["--quick", "--seed", "7", "--data-dir", "/d", "--threads", "2"])
        #expect(options.quick && options.seed == 7 && options.dataDir == "/d" && options.threads == 2)
        // Quick runs never write into the committed figures folder unless asked to.
        #expect(options.figuresDirectory.path != URL(fileURLWithPath: "figures").path)
        #expect(try ChapterOptions.parse([]).figuresDirectory.lastPathComponent == "figures")
    }

    @Test func rejectsBadFlags() {
        #expect(throws: (any Error).self) { try ChapterOptions.parse(["--threads", "0"]) }
        #expect(throws: (any Error).self) { try ChapterOptions.parse(["--seed", "minus one"]) }
        #expect(throws: (any Error).self) { try ChapterOptions.parse(["--no-such-flag"]) }
    }

    @Test func aFalseClaimFailsTheRun() throws {
        let chapter = try Chapter(number: 99, title: "test", options: try ChapterOptions.parse(["--quick"]))
        chapter.check(true, "true claim")
        #expect(throws: Never.self) { try chapter.finish() }
        chapter.check(false, "a deliberately false claim (this [FAILED] line is expected)")
        #expect(chapter.failedClaims == ["a deliberately false claim (this [FAILED] line is expected)"])
        #expect(throws: (any Error).self) { try chapter.finish() }
    }

    @Test func nonFiniteLossStopsWithAClearMessage() throws {
        let chapter = try Chapter(number: 99, title: "test", options: try ChapterOptions.parse(["--quick"]))
        #expect(throws: ChapterError.self) { try chapter.requireFinite(.nan, "the loss", step: 3) }
        #expect(throws: Never.self) { try chapter.requireFinite(1.5, "the loss", step: 3) }
    }

    @Test func badOutputPathsStopBeforeAnyWork() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chapterkit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        // A file where a folder is expected, and a folder inside it that cannot be created.
        #expect(throws: ChapterError.self) { try requireWritableFolder(file, flag: "--figures-dir") }
        #expect(throws: ChapterError.self) { try requireWritableFolder(file.appendingPathComponent("sub"), flag: "--figures-dir") }
        #expect(throws: ChapterError.self) {
            try Chapter(number: 99, title: "test", options: try ChapterOptions.parse(["--quick", "--figures-dir", file.path]))
        }
        // A new folder is made; a checkpoint path that is a folder, or missing when it must be read, is refused.
        #expect(throws: Never.self) { try requireWritableFolder(folder.appendingPathComponent("new/deeper"), flag: "--figures-dir") }
        let chapter = try Chapter(number: 99, title: "test", options: try ChapterOptions.parse(["--quick", "--figures-dir", folder.path]))
        #expect(throws: ChapterError.self) { try chapter.requireOutputFile(folder, flag: "--checkpoint") }
        #expect(throws: ChapterError.self) { try chapter.requireOutputFile(folder.appendingPathComponent("none.safetensors"), flag: "--checkpoint", reading: true) }
        #expect(throws: Never.self) { try chapter.requireOutputFile(folder.appendingPathComponent("new.safetensors"), flag: "--checkpoint") }
        // Nothing is left behind by the checks.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["a-file", "new"])
    }

    @Test func checksOfOneFolderMayRunAtOnce() throws {
        // Two chapters made at once (as the tests do) check the same folder; neither may see the other's probe file.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chapterkit-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: folder) }
        try requireWritableFolder(folder, flag: "--figures-dir")
        let lock = NSLock()
        nonisolated(unsafe) var failures = 0
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<500 where (try? requireWritableFolder(folder, flag: "--figures-dir")) == nil {
                lock.withLock { failures += 1 }
            }
        }
        #expect(failures == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func printsEveryFieldOfAConfiguration() {
        struct Inner { var rate: Float = 0.5; var clip: Float? = nil }
        struct Outer { var steps = 3; var inner = Inner(); var counts = [1, 2]; var pair = (a: 1, b: 2) }
        #expect(configurationLines(Outer()) == ["steps = 3", "inner.rate = 0.5", "inner.clip = nil", "counts = [1, 2]", "pair = (a: 1, b: 2)"])
    }

    @Test func wrapsProse() {
        #expect(wrap("aaa bbb ccc", width: 7) == "aaa bbb\nccc")
        #expect(formatDuration(75) == "1 min 15 s")
    }
}
