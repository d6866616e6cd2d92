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
    case silent(path: String)

    /// What is wrong, and what to do.
    public var description: String {
        switch self {
        case .inconsistent(let path, let reason): "\(path): \(reason). The speech arrays do not belong together; copy data/speech again."
        case .badSpeakers(let path, let reason): "\(path): \(reason). Expected a header line, then one line per speaker: id<TAB>name<TAB>..."
        case .unknownSpeaker(let name, let known): "--test-speakers: no speaker named '\(name)'; the known speakers are \(known.joined(separator: ", "))"
        case .emptySplit(let what): what
        case .silent(let path): "\(path): every clip is silent (all samples 0), so there is nothing to learn from. Copy data/speech again."
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
    /// Clips that hold only zeros (normalized, they stay zero), and clips longer than `maximumSamples` that were
    /// cut to their first `maximumSamples` samples (fairseq crops to `max_sample_size` the same way).
    public let silentClips: [Int], croppedClips: [Int]
    /// The longest clip kept whole: 5 s. FSDD's longest is 2.3 s; a longer clip is a recording gone wrong, and
    /// one of 60 s would take minutes of every pass over the data.
    public static let maximumSamples = 5 * sampleRate

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
        /// A one-dimensional integer array: offsets, labels, speakers, takes.
        func column(_ name: String) throws -> [Int] {
            let array = try NPY.read(path(name))
            guard array.shape.count == 1 else {
                throw SpeechDataError.inconsistent(path: path(name).path, reason: "expected one number per clip, an array of shape [N], found shape \(array.shape)")
            }
            return try array.integers(path: path(name).path)
        }
        let offsets = try column("fsdd_train_offsets.npy"), labels = try column("fsdd_train_labels.npy")
        let speakers = try column("fsdd_train_speakers.npy"), takes = try column("fsdd_train_takes.npy")
        let n = labels.count
        let offsetsPath = path("fsdd_train_offsets.npy").path
        guard offsets.count == n + 1, speakers.count == n, takes.count == n else {
            throw SpeechDataError.inconsistent(path: offsetsPath, reason: "\(offsets.count) offsets, \(n) labels, \(speakers.count) speakers and \(takes.count) takes (need N + 1, N, N, N)")
        }
        guard n > 0 else { throw SpeechDataError.inconsistent(path: path("fsdd_train_labels.npy").path, reason: "no clips") }
        guard offsets.first == 0, offsets.last == audio.count, zip(offsets, offsets.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw SpeechDataError.inconsistent(path: offsetsPath, reason: "offsets must rise strictly from 0 to the \(audio.count) samples of the audio")
        }
        if let badLabel = labels.first(where: { !(0...9).contains($0) }) {
            throw SpeechDataError.inconsistent(path: path("fsdd_train_labels.npy").path, reason: "digit \(badLabel) is outside 0...9")
        }
        if let badTake = takes.first(where: { !(0...49).contains($0) }) {
            throw SpeechDataError.inconsistent(path: path("fsdd_train_takes.npy").path, reason: "take \(badTake) is outside FSDD's 0...49")
        }
        let names = try SpokenDigits.readSpeakers(path("speakers.txt"))
        if let badSpeaker = speakers.first(where: { names[$0] == nil }) {
            throw SpeechDataError.inconsistent(path: path("fsdd_train_speakers.npy").path, reason: "speaker id \(badSpeaker) is not in speakers.txt")
        }
        speakerNames = names
        digits = labels
        self.speakers = speakers
        self.takes = takes
        let (clips, silent) = SpokenDigits.normalizedClips(audio, offsets: offsets)
        guard silent.count < n else { throw SpeechDataError.silent(path: path("fsdd_train_audio.npy").path) }
        silentClips = silent
        croppedClips = clips.indices.filter { clips[$0].count > SpokenDigits.maximumSamples }
        self.clips = clips.map { $0.count > SpokenDigits.maximumSamples ? Array($0.prefix(SpokenDigits.maximumSamples)) : $0 }
    }

    /// Speaker ids and names from speakers.txt: a header line (its first field "id"), then id<TAB>name<TAB>...
    /// per speaker; Windows line ends are read as line ends. Ids and names must both be unique.
    static func readSpeakers(_ url: URL) throws -> [Int: String] {
        let text: String
        do { text = try readText(url) } catch { throw SpeechDataError.badSpeakers(path: url.path, reason: error.reason) }
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: true)
        guard let header = lines.first else { throw SpeechDataError.badSpeakers(path: url.path, reason: "the file is empty") }
        guard header.split(separator: "\t").first.map({ $0.lowercased() == "id" }) == true else {
            throw SpeechDataError.badSpeakers(path: url.path, reason: "line 1 is not the header line id<TAB>name<TAB>... (was it removed?)")
        }
        var names: [Int: String] = [:]
        for (number, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, let id = Int(fields[0]), id >= 0, !fields[1].isEmpty else {
                throw SpeechDataError.badSpeakers(path: url.path, reason: "line \(number + 2) is not id<TAB>name")
            }
            guard names[id] == nil else { throw SpeechDataError.badSpeakers(path: url.path, reason: "speaker id \(id) appears twice") }
            guard !names.values.contains(String(fields[1])) else {
                throw SpeechDataError.badSpeakers(path: url.path, reason: "the name '\(fields[1])' appears twice (a speaker must be named once, or --test-speakers cannot say which)")
            }
            names[id] = String(fields[1])
        }
        guard !names.isEmpty else { throw SpeechDataError.badSpeakers(path: url.path, reason: "no speakers listed after the header") }
        return names
    }

    /// Every clip as floats with zero mean and unit variance (a silent clip stays at zero), and the silent clips.
    static func normalizedClips(_ audio: NPYArray, offsets: [Int]) -> (clips: [[Float]], silent: [Int]) {
        var silent: [Int] = []
        let clips = audio.bytes.withUnsafeBytes { raw in
            let samples = raw.bindMemory(to: Int16.self)
            return (0..<(offsets.count - 1)).map { i in
                let range = offsets[i]..<offsets[i + 1]
                var mean: Double = 0
                for j in range { mean += Double(Int16(littleEndian: samples[j])) }
                mean /= Double(range.count)
                var variance: Double = 0
                for j in range { let v = Double(Int16(littleEndian: samples[j])) - mean; variance += v * v }
                if variance == 0 { silent.append(i) }
                let scale = 1 / max((variance / Double(range.count)).squareRoot(), 1e-5)
                return range.map { Float((Double(Int16(littleEndian: samples[$0])) - mean) * scale) }
            }
        }
        return (clips, silent)
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
        if testSpeakers != nil {
            guard !train.isEmpty else { throw SpeechDataError.emptySplit("--test-speakers names every speaker, so nothing is left to train on: leave at least one out") }
            guard !test.isEmpty else { throw SpeechDataError.emptySplit("--test-speakers: the speakers named have no clips") }
        } else {
            guard !train.isEmpty else {
                throw SpeechDataError.emptySplit("fsdd_train_takes.npy: every clip is a take below 5, FSDD's test takes, so nothing is left to train on; check the file, or hold out speakers with --test-speakers instead")
            }
            guard !test.isEmpty else {
                throw SpeechDataError.emptySplit("fsdd_train_takes.npy: no clip is a take below 5, FSDD's test takes, so nothing is left to test on; check the file, or hold out speakers with --test-speakers instead")
            }
        }
        return (train, test)
    }
}
