// One test per damaged input that the readers once accepted silently or reported unclearly: each now ends in
// an error that names the file and what is wrong, or is handled and said (scripts/damaged-inputs.py runs the
// same cases against the chapters' binaries).
import Autograd
@testable import Datasets
import Foundation
import Testing

@Suite("Damaged inputs")
struct DamagedInputTests {
    /// A small, valid speech folder: 6 clips of 200 samples (the last two silent when `silent`), 2 speakers.
    func speechFolder(_ name: String, speakers: String = "id\tname\n0\tada\n1\tbo\n", takes: [Int64] = [0, 1, 2, 5, 6, 7],
                      labels: NPYArray? = nil, silent: Bool = false) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("damaged-\(name)-\(getpid())")
        let speech = folder.appendingPathComponent("speech")
        try FileManager.default.createDirectory(at: speech, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 9)
        let samples = (0..<1200).map { i in silent && i >= 800 ? Int16(0) : Int16(rng.int(below: 2000)) - 1000 }
        try NPY.write(NPYArray(shape: [1200], int16: samples), to: speech.appendingPathComponent("fsdd_train_audio.npy"))
        try NPY.write(NPYArray(shape: [7], int64: [0, 200, 400, 600, 800, 1000, 1200]), to: speech.appendingPathComponent("fsdd_train_offsets.npy"))
        try NPY.write(labels ?? NPYArray(shape: [6], int64: [0, 1, 2, 3, 4, 5]), to: speech.appendingPathComponent("fsdd_train_labels.npy"))
        try NPY.write(NPYArray(shape: [6], int64: [0, 0, 0, 1, 1, 1]), to: speech.appendingPathComponent("fsdd_train_speakers.npy"))
        try NPY.write(NPYArray(shape: [6], int64: takes), to: speech.appendingPathComponent("fsdd_train_takes.npy"))
        try Data(speakers.utf8).write(to: speech.appendingPathComponent("speakers.txt"))
        return folder
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func speakersNamedTwiceAreRefused() throws {
        let folder = try speechFolder("twice", speakers: "id\tname\n0\tada\n1\tada\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(message { _ = try SpokenDigits(directory: folder) }.contains("the name 'ada' appears twice"))
    }

    @Test func speakersWithWindowsLineEndsAreRead() throws {
        let folder = try speechFolder("crlf", speakers: "id\tname\r\n0\tada\r\n1\tbo\r\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try SpokenDigits(directory: folder).speakerNames == [0: "ada", 1: "bo"])
    }

    @Test func aMissingHeaderLineIsNamed() throws {
        let folder = try speechFolder("header", speakers: "0\tada\n1\tbo\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(message { _ = try SpokenDigits(directory: folder) }.contains("line 1 is not the header line"))
    }

    @Test func takesOutsideFSDDsRangeAreRefused() throws {
        let folder = try speechFolder("takes", takes: [0, 1, 2, 5, 6, 1_000_000_000_000_000])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(message { _ = try SpokenDigits(directory: folder) }.contains("outside FSDD's 0...49"))
    }

    @Test func labelsOfTwoDimensionsAreRefused() throws {
        let folder = try speechFolder("shape", labels: NPYArray(shape: [2, 3], int64: [0, 1, 2, 3, 4, 5]))
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(message { _ = try SpokenDigits(directory: folder) }.contains("found shape [2, 3]"))
    }

    @Test func silentClipsAreCountedAndAWhollySilentSetRefused() throws {
        let some = try speechFolder("silent", silent: true)
        defer { try? FileManager.default.removeItem(at: some) }
        #expect(try SpokenDigits(directory: some).silentClips == [4, 5])
        try NPY.write(NPYArray(shape: [1200], int16: [Int16](repeating: 0, count: 1200)), to: some.appendingPathComponent("speech/fsdd_train_audio.npy"))
        #expect(message { _ = try SpokenDigits(directory: some) }.contains("every clip is silent"))
    }

    @Test func splitsThatComeOutEmptyNameWhy() throws {
        let folder = try speechFolder("split", takes: [0, 1, 2, 3, 4, 0])
        defer { try? FileManager.default.removeItem(at: folder) }
        let digits = try SpokenDigits(directory: folder)
        #expect(message { _ = try digits.split() }.contains("fsdd_train_takes.npy: every clip is a take below 5"))
        #expect(message { _ = try digits.split(testSpeakers: ["ada", "bo"]) }.contains("names every speaker"))
    }

    @Test func sst2RowsNeedExactlyTwoColumnsAndAnyLineEnds() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("damaged-sst2-\(getpid()).tsv")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("sentence\tlabel\na fine film \t1\nsome \tfoo\t0\n".utf8).write(to: file)
        #expect(message { _ = try SST2(file) }.contains("line 3: 3 tab-separated columns, not 2"))
        try Data("sentence\tlabel\r\na fine film \t1\r\ndull \t0\r\n".utf8).write(to: file)
        let rows = try SST2(file)
        #expect(rows.labels == [1, 0] && rows.sentences == ["a fine film ", "dull "])
    }

    @Test func everyWriteIsWholeOrNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("damaged-writes-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("taken"), withIntermediateDirectories: true)
        #expect(message { try AtomicFile.write("x", to: folder.appendingPathComponent("taken")) }.contains("there is a folder of that name"))
        try AtomicFile.write("hello", to: folder.appendingPathComponent("note.txt"))
        #expect(try String(contentsOf: folder.appendingPathComponent("note.txt"), encoding: .utf8) == "hello")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["note.txt", "taken"])  // no temporary left
    }
}
