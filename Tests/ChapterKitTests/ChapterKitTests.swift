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
        let chapter = Chapter(number: 99, title: "test", options: try ChapterOptions.parse(["--quick"]))
        chapter.check(true, "true claim")
        #expect(throws: Never.self) { try chapter.finish() }
        chapter.check(false, "a deliberately false claim (this [FAILED] line is expected)")
        #expect(chapter.failedClaims == ["a deliberately false claim (this [FAILED] line is expected)"])
        #expect(throws: (any Error).self) { try chapter.finish() }
    }

    @Test func nonFiniteLossStopsWithAClearMessage() throws {
        let chapter = Chapter(number: 99, title: "test", options: try ChapterOptions.parse(["--quick"]))
        #expect(throws: ChapterError.self) { try chapter.requireFinite(.nan, "the loss", step: 3) }
        #expect(throws: Never.self) { try chapter.requireFinite(1.5, "the loss", step: 3) }
    }

    @Test func wrapsProse() {
        #expect(wrap("aaa bbb ccc", width: 7) == "aaa bbb\nccc")
        #expect(formatDuration(75) == "1 min 15 s")
    }
}
