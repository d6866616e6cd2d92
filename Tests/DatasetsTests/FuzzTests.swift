// Fuzzing the readers: seeded random damage to valid files (byte flips, truncations, edited headers, huge
// and negative numbers, changed line ends and columns). Every case must end in a thrown error or a valid
// value, never a crash or a hang.
import Autograd
@testable import Datasets
import Foundation
import Testing

/// Damages `data` in one of several ways, chosen by `rng`.
func mutate(_ data: Data, using rng: inout RandomGenerator) -> Data {
    var bytes = [UInt8](data)
    guard !bytes.isEmpty else { return Data([UInt8(rng.int(below: 256))]) }
    switch rng.int(below: 8) {
    case 0:  // flip a few bytes anywhere
        for _ in 0..<(1 + rng.int(below: 4)) { bytes[rng.int(below: bytes.count)] ^= UInt8(1 + rng.int(below: 255)) }
    case 1:  // cut the file short
        bytes = Array(bytes.prefix(rng.int(below: bytes.count)))
    case 2:  // damage the first 200 bytes (headers live there)
        for _ in 0..<(1 + rng.int(below: 3)) { bytes[rng.int(below: min(200, bytes.count))] = UInt8(rng.int(below: 256)) }
    case 3:  // replace a run of digits with a huge or negative number
        let text = String(decoding: bytes.prefix(300), as: UTF8.self)
        let numbers = ["-1", "-9223372036854775808", "9223372036854775807", "18446744073709551615", "4294967296", "0", "99999999999999999999"]
        if let range = text.range(of: "[0-9]+", options: .regularExpression, range: text.index(text.startIndex, offsetBy: rng.int(below: max(1, text.count / 2)))..<text.endIndex) {
            let replaced = text.replacingCharacters(in: range, with: numbers[rng.int(below: numbers.count)])
            bytes = Array(replaced.utf8) + bytes.dropFirst(min(300, bytes.count))
        } else { bytes[0] ^= 0xFF }
    case 4:  // insert random bytes
        let at = rng.int(below: bytes.count)
        bytes.insert(contentsOf: (0..<(1 + rng.int(below: 8))).map { _ in UInt8(rng.int(below: 256)) }, at: at)
    case 5:  // remove a run
        let start = rng.int(below: bytes.count), length = min(bytes.count - start, 1 + rng.int(below: 16))
        bytes.removeSubrange(start..<(start + length))
    case 6:  // line ends: every LF as CRLF, or as CR, or one line break removed
        switch rng.int(below: 3) {
        case 0: bytes = bytes.flatMap { $0 == 10 ? [13, 10] : [$0] }
        case 1: bytes = bytes.map { $0 == 10 ? 13 : $0 }
        default: if let i = bytes.indices.filter({ bytes[$0] == 10 }).randomElement(using: &rng) { bytes.remove(at: i) }
        }
    default:  // columns: a tab inserted at a random place, or one removed
        let tabs = bytes.indices.filter { bytes[$0] == 9 }
        if rng.int(below: 2) == 0 || tabs.isEmpty { bytes.insert(9, at: rng.int(below: bytes.count)) }
        else { bytes.remove(at: tabs[rng.int(below: tabs.count)]) }
    }
    return Data(bytes)
}

@Suite("Fuzzed readers")
struct FuzzTests {
    @Test func npyReaderSurvivesDamage() {
        let valid = [NPY.encode(NPYArray(shape: [3, 4], floats: (0..<12).map(Float.init))),
                     NPY.encode(NPYArray(shape: [5], int64: [0, 3, 7, 9, 12])),
                     NPY.encode(NPYArray(shape: [2, 2, 2], uint8: [1, 2, 3, 4, 5, 6, 7, 8]))]
        var rng = RandomGenerator(seed: 1)
        var (errors, values) = (0, 0)
        for trial in 0..<3000 {
            let data = mutate(valid[trial % valid.count], using: &rng)
            do {
                let array = try NPY.decode(data)
                #expect(array.bytes.count == array.count * array.dtype.byteCount)
                if array.dtype != .float32 { _ = try array.integers() }
                values += 1
            } catch { errors += 1 }
        }
        #expect(errors > 1000 && errors + values == 3000)
    }

    @Test func speechLoaderSurvivesDamagedOffsets() throws {
        // A small speech folder: 6 clips of 200 samples, 2 speakers.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-speech-\(getpid())")
        let speech = folder.appendingPathComponent("speech")
        try FileManager.default.createDirectory(at: speech, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = RandomGenerator(seed: 2)
        try NPY.write(NPYArray(shape: [1200], int16: (0..<1200).map { _ in Int16(rng.int(below: 2000)) - 1000 }), to: speech.appendingPathComponent("fsdd_train_audio.npy"))
        let offsets = NPY.encode(NPYArray(shape: [7], int64: [0, 200, 400, 600, 800, 1000, 1200]))
        try NPY.write(NPYArray(shape: [6], int64: [0, 1, 2, 3, 4, 5]), to: speech.appendingPathComponent("fsdd_train_labels.npy"))
        try NPY.write(NPYArray(shape: [6], int64: [0, 0, 0, 1, 1, 1]), to: speech.appendingPathComponent("fsdd_train_speakers.npy"))
        try NPY.write(NPYArray(shape: [6], int64: [0, 1, 2, 0, 1, 2]), to: speech.appendingPathComponent("fsdd_train_takes.npy"))
        try Data("id\tname\n0\tada\n1\tbo\n".utf8).write(to: speech.appendingPathComponent("speakers.txt"))
        try offsets.write(to: speech.appendingPathComponent("fsdd_train_offsets.npy"))
        #expect(try SpokenDigits(directory: folder).count == 6)
        var (errors, values) = (0, 0)
        for _ in 0..<1500 {
            try mutate(offsets, using: &rng).write(to: speech.appendingPathComponent("fsdd_train_offsets.npy"))
            do {
                let digits = try SpokenDigits(directory: folder)
                #expect(digits.clips.map(\.count).reduce(0, +) == 1200)
                values += 1
            } catch { errors += 1 }
        }
        #expect(errors + values == 1500 && errors > 500)
    }

    /// Every array of the speech folder, each damaged in turn (labels, speakers, takes, audio): a clear error, or
    /// clips that add up to the audio with digits in 0...9, takes in 0...49 and known speakers.
    @Test func speechLoaderSurvivesDamageToEveryArray() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-speech-all-\(getpid())")
        let speech = folder.appendingPathComponent("speech")
        try FileManager.default.createDirectory(at: speech, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = RandomGenerator(seed: 4)
        let files: [(String, Data)] = [
            ("fsdd_train_audio.npy", NPY.encode(NPYArray(shape: [1200], int16: (0..<1200).map { _ in Int16(rng.int(below: 2000)) - 1000 }))),
            ("fsdd_train_offsets.npy", NPY.encode(NPYArray(shape: [7], int64: [0, 200, 400, 600, 800, 1000, 1200]))),
            ("fsdd_train_labels.npy", NPY.encode(NPYArray(shape: [6], int64: [0, 1, 2, 3, 4, 5]))),
            ("fsdd_train_speakers.npy", NPY.encode(NPYArray(shape: [6], int64: [0, 0, 0, 1, 1, 1]))),
            ("fsdd_train_takes.npy", NPY.encode(NPYArray(shape: [6], int64: [0, 1, 2, 0, 1, 7]))),
            ("speakers.txt", Data("id\tname\n0\tada\n1\tbo\n".utf8)),
        ]
        func writeAll() throws { for (name, data) in files { try data.write(to: speech.appendingPathComponent(name)) } }
        try writeAll()
        #expect(try SpokenDigits(directory: folder).count == 6)
        var (errors, values) = (0, 0)
        for trial in 0..<1200 {
            try writeAll()
            let (name, valid) = files[[0, 2, 3, 4, 5][trial % 5]]
            try mutate(valid, using: &rng).write(to: speech.appendingPathComponent(name))
            do {
                let digits = try SpokenDigits(directory: folder)
                #expect(digits.clips.count == digits.digits.count && digits.clips.allSatisfy { !$0.isEmpty })
                #expect(digits.digits.allSatisfy { (0...9).contains($0) } && digits.takes.allSatisfy { (0...49).contains($0) })
                #expect(digits.speakers.allSatisfy { digits.speakerNames[$0] != nil })
                _ = try? digits.split()
                values += 1
            } catch { errors += 1 }
        }
        #expect(errors + values == 1200 && errors > 300 && values > 100)
    }

    /// The pretraining corpus as the chapter reads it (UTF-8 text): damaged bytes give a clear error (not UTF-8)
    /// or text; tokenizing whatever text was read gives it back exactly.
    @Test func corpusTextSurvivesDamage() throws {
        let novel = String(try readText(dataFolder.appendingPathComponent("text/corpus_valid.txt")).prefix(3000))
        let tokenizer = try BytePairEncoding.train(on: novel, vocabularySize: 300)
        let (errors, values) = try fuzzFile(Data(novel.utf8), name: "corpus.txt", seed: 7) { file in
            let text = try readText(file)
            #expect(tokenizer.decode(tokenizer.encode(text)) == text)
        }
        #expect(errors + values == 1500 && values > 100)
    }

    @Test func tokenizerFilesSurviveDamage() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-bpe-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try BytePairEncoding.train(on: "the cat sat on the mat; the cat ate the rat. 123 456 the end", vocabularySize: 290)
        try tokenizer.save(to: folder)
        let (vocabulary, merges) = (try Data(contentsOf: folder.appendingPathComponent("vocab.json")), try Data(contentsOf: folder.appendingPathComponent("merges.txt")))
        var rng = RandomGenerator(seed: 3)
        var (errors, values) = (0, 0)
        for trial in 0..<1500 {
            let damagedVocabulary = trial % 2 == 0 ? mutate(vocabulary, using: &rng) : vocabulary
            let damagedMerges = trial % 2 == 1 ? mutate(merges, using: &rng) : merges
            try damagedVocabulary.write(to: folder.appendingPathComponent("vocab.json"))
            try damagedMerges.write(to: folder.appendingPathComponent("merges.txt"))
            do {
                let loaded = try BytePairEncoding.load(from: folder)
                let text = "the cat sat on 12 mats ü"
                #expect(loaded.decode(loaded.encode(text)) == text)
                values += 1
            } catch { errors += 1 }
        }
        #expect(errors + values == 1500 && errors > 500)
    }
    /// Writes 1,500 damaged copies of `valid` to a file named `name` and hands each to `read`, which either
    /// throws (a clear error) or checks the value it read. Returns (errors, values).
    func fuzzFile(_ valid: Data, name: String, seed: UInt64, _ read: (URL) throws -> Void) throws -> (errors: Int, values: Int) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent(name)
        var rng = RandomGenerator(seed: seed)
        var (errors, values) = (0, 0)
        for _ in 0..<1500 {
            try mutate(valid, using: &rng).write(to: file)
            do { try read(file); values += 1 } catch { errors += 1 }
        }
        return (errors, values)
    }

    /// SST-2's TSV reader (chapter 07) on damaged copies of the first 40 dev rows: a clear error, or rows whose
    /// labels are 0 or 1 and whose sentences are not empty.
    @Test func sst2ReaderSurvivesDamage() throws {
        let lines = try readText(dataFolder.appendingPathComponent("text/sst2_dev.tsv")).split(separator: "\n").prefix(41)
        let (errors, values) = try fuzzFile(Data((lines.joined(separator: "\n") + "\n").utf8), name: "sst2.tsv", seed: 5) { file in
            let rows = try SST2(file)
            #expect(rows.count > 0 && rows.count == rows.sentences.count)
            #expect(rows.labels.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(rows.sentences.allSatisfy { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        }
        #expect(errors + values == 1500 && errors > 100 && values > 100)
    }

    /// speakers.txt (chapter 06's speaker names) on damaged copies: a clear error, or distinct non-negative ids
    /// with names.
    @Test func speakerListSurvivesDamage() throws {
        let valid = try Data(contentsOf: dataFolder.appendingPathComponent("speech/speakers.txt"))
        let (errors, values) = try fuzzFile(valid, name: "speakers.txt", seed: 6) { file in
            let names = try SpokenDigits.readSpeakers(file)
            #expect(!names.isEmpty && names.keys.allSatisfy { $0 >= 0 } && names.values.allSatisfy { !$0.isEmpty })
        }
        #expect(errors + values == 1500 && errors > 100 && values > 100)
    }
}
