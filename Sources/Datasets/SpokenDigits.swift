// The Free Spoken Digit Dataset (data/speech; provenance in data/README.md): spoken digits 0-9 at 8 kHz.
//
//   fsdd_train_audio.npy     int16 [S]     every clip's samples, concatenated
//   fsdd_train_offsets.npy   int64 [N + 1] clip i is audio[offsets[i] ..< offsets[i + 1]]
//   fsdd_train_labels.npy    int64 [N]     the spoken digit
//   fsdd_train_speakers.npy  int64 [N]     the speaker id (a row of speakers.txt)
//   fsdd_train_takes.npy     int64 [N]     FSDD's recording index 0-49 (takes 0-4 are FSDD's test set)
//   speakers.txt             TSV with a header: id, name, ... (any number of speakers)
//
// Each clip is normalized on its own to zero mean and unit variance (fairseq's `task.normalize: true`, which
// data2vec speech uses): the loudness of FSDD's speakers differs about 15-fold, and the CNN's first
// LayerNorm expects inputs of unit scale.
import Foundation

/// Why the speech data cannot be used. Each message names the file and what to do.
public enum SpeechDataError: Error, CustomStringConvertible, Equatable {
    case inconsistent(path: String, reason: String)
    case badSpeakers(path: String, reason: String)
    case unknownSpeaker(name: String, known: [String])
    case emptySplit(String)

    /// What is wrong, and what to do.
    public var description: String {
        switch self {
        case .inconsistent(let path, let reason): "\(path): \(reason). The speech arrays do not belong together; copy data/speech again."
        case .badSpeakers(let path, let reason): "\(path): \(reason). Expected a header line, then one line per speaker: id<TAB>name<TAB>..."
        case .unknownSpeaker(let name, let known): "--test-speakers: no speaker named '\(name)'; the known speakers are \(known.joined(separator: ", "))"
        case .emptySplit(let what): "\(what) is empty: choose other --test-speakers (at least one speaker must stay for training)"
        }
    }
}

/// Spoken digits: normalized clips, their digits, speakers and take numbers.
public struct SpokenDigits: Sendable {
    /// Samples per second of every clip.
    public static let sampleRate = 8000
    /// Clip i's samples, normalized to zero mean and unit variance.
    public let clips: [[Float]]
    /// The digit each clip says.
    public let digits: [Int]
    /// Each clip's speaker id.
    public let speakers: [Int]
    /// Each clip's FSDD recording index (0-49).
    public let takes: [Int]
    /// Speaker id -> name (from speakers.txt).
    public let speakerNames: [Int: String]

    /// The number of clips.
    public var count: Int { clips.count }

    /// Reads `<directory>/speech/fsdd_train_*.npy` and `speakers.txt`.
    public init(directory: URL) throws {
        let folder = directory.appendingPathComponent("speech")
        func path(_ name: String) -> URL { folder.appendingPathComponent(name) }
        let audio = try NPY.read(path("fsdd_train_audio.npy"))
        guard audio.dtype == .int16, audio.shape.count == 1 else {
            throw SpeechDataError.inconsistent(path: path("fsdd_train_audio.npy").path, reason: "expected int16 samples of shape [S], found \(audio.dtype.rawValue) \(audio.shape)")
        }
        let offsets = try NPY.read(path("fsdd_train_offsets.npy")).integers(path: path("fsdd_train_offsets.npy").path)
        let labels = try NPY.read(path("fsdd_train_labels.npy")).integers(path: path("fsdd_train_labels.npy").path)
        let speakers = try NPY.read(path("fsdd_train_speakers.npy")).integers(path: path("fsdd_train_speakers.npy").path)
        let takes = try NPY.read(path("fsdd_train_takes.npy")).integers(path: path("fsdd_train_takes.npy").path)
        let n = labels.count
        let offsetsPath = path("fsdd_train_offsets.npy").path
        guard offsets.count == n + 1, speakers.count == n, takes.count == n else {
            throw SpeechDataError.inconsistent(path: offsetsPath, reason: "\(offsets.count) offsets, \(n) labels, \(speakers.count) speakers and \(takes.count) takes (need N + 1, N, N, N)")
        }
        guard offsets.first == 0, offsets.last == audio.count, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SpeechDataError.inconsistent(path: offsetsPath, reason: "offsets must rise strictly from 0 to the \(audio.count) samples of the audio")
        }
        if let badLabel = labels.first(where: { !(0...9).contains($0) }) {
            throw SpeechDataError.inconsistent(path: path("fsdd_train_labels.npy").path, reason: "digit \(badLabel) is outside 0...9")
        }
        let names = try SpokenDigits.readSpeakers(path("speakers.txt"))
        if let badSpeaker = speakers.first(where: { names[$0] == nil }) {
            throw SpeechDataError.inconsistent(path: path("fsdd_train_speakers.npy").path, reason: "speaker id \(badSpeaker) is not in speakers.txt")
        }
        speakerNames = names
        digits = labels
        self.speakers = speakers
        self.takes = takes
        clips = SpokenDigits.normalizedClips(audio, offsets: offsets)
    }

    /// Speaker ids and names from speakers.txt.
    static func readSpeakers(_ url: URL) throws -> [Int: String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw SpeechDataError.badSpeakers(path: url.path, reason: "cannot read the file as UTF-8 text")
        }
        var names: [Int: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).dropFirst().enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, let id = Int(fields[0]), id >= 0, !fields[1].isEmpty else {
                throw SpeechDataError.badSpeakers(path: url.path, reason: "line \(number + 2) is not id<TAB>name")
            }
            guard names[id] == nil else { throw SpeechDataError.badSpeakers(path: url.path, reason: "speaker id \(id) appears twice") }
            names[id] = String(fields[1])
        }
        guard !names.isEmpty else { throw SpeechDataError.badSpeakers(path: url.path, reason: "no speakers listed") }
        return names
    }

    /// Every clip as floats with zero mean and unit variance (a silent clip stays at zero).
    static func normalizedClips(_ audio: NPYArray, offsets: [Int]) -> [[Float]] {
        audio.bytes.withUnsafeBytes { raw in
            let samples = raw.bindMemory(to: Int16.self)
            return (0..<(offsets.count - 1)).map { i in
                let range = offsets[i]..<offsets[i + 1]
                var mean: Double = 0
                for j in range { mean += Double(Int16(littleEndian: samples[j])) }
                mean /= Double(range.count)
                var variance: Double = 0
                for j in range { let v = Double(Int16(littleEndian: samples[j])) - mean; variance += v * v }
                let scale = 1 / max((variance / Double(range.count)).squareRoot(), 1e-5)
                return range.map { Float((Double(Int16(littleEndian: samples[$0])) - mean) * scale) }
            }
        }
    }

    /// Clip indices for training and for testing. By default FSDD's convention: takes 0-4 of every speaker
    /// are the test set. With `testSpeakers`, every clip of those speakers is the test set instead (and never
    /// seen in training), for speaker-independent results.
    public func split(testSpeakers: [String]? = nil) throws -> (train: [Int], test: [Int]) {
        let isTest: (Int) -> Bool
        if let testSpeakers {
            let known = speakerNames.keys.sorted().map { speakerNames[$0]! }
            var held = Set<Int>()
            for name in testSpeakers {
                guard let id = speakerNames.first(where: { $0.value == name })?.key else { throw SpeechDataError.unknownSpeaker(name: name, known: known) }
                held.insert(id)
            }
            isTest = { held.contains(self.speakers[$0]) }
        } else {
            isTest = { self.takes[$0] < 5 }
        }
        let train = (0..<count).filter { !isTest($0) }, test = (0..<count).filter(isTest)
        guard !train.isEmpty else { throw SpeechDataError.emptySplit("the training split") }
        guard !test.isEmpty else { throw SpeechDataError.emptySplit("the test split") }
        return (train, test)
    }
}
