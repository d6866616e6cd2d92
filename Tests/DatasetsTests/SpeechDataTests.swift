// The spoken-digit loader, batches, digit strings and log-mel features.
import Autograd
@testable import Datasets
import Foundation
import Testing

@Suite("Speech data")
struct SpeechDataTests {
    static let digits = try? SpokenDigits(directory: dataFolder)

    @Test func clipsAreNormalizedAndSplitByTakesOrSpeakers() throws {
        let digits = try #require(SpeechDataTests.digits)
        #expect(digits.count == 2500 && digits.speakerNames.count == 5)
        let clip = digits.clips[17]
        let mean = clip.reduce(0, +) / Float(clip.count)
        let variance = clip.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(clip.count)
        #expect(abs(mean) < 1e-4 && abs(variance - 1) < 1e-3)
        let (train, test) = try digits.split()
        #expect(train.count == 2250 && test.count == 250 && test.allSatisfy { digits.takes[$0] < 5 })
        let bySpeaker = try digits.split(testSpeakers: ["theo"])
        #expect(bySpeaker.test.count == 500 && bySpeaker.test.allSatisfy { digits.speakerNames[digits.speakers[$0]] == "theo" })
        #expect(Set(bySpeaker.train).isDisjoint(with: bySpeaker.test))
        #expect(throws: SpeechDataError.unknownSpeaker(name: "nobody", known: ["george", "jackson", "nicolas", "theo", "yweweler"])) {
            try digits.split(testSpeakers: ["nobody"])
        }
        #expect(throws: SpeechDataError.emptySplit("--test-speakers names every speaker, so nothing is left to train on: leave at least one out")) {
            try digits.split(testSpeakers: ["george", "jackson", "nicolas", "theo", "yweweler"])
        }
    }

    @Test func batchesPadAndCrop() throws {
        let digits = try #require(SpeechDataTests.digits)
        var rng = RandomGenerator(seed: 1)
        let batch = digits.batch([0, 1, 2], maxLength: 3000, using: &rng)
        #expect(batch.lengths == [0, 1, 2].map { min(digits.clips[$0].count, 3000) })
        #expect(batch.samples.shape == [3, batch.lengths.max()!])
    }

    @Test func digitStringsJoinClipsReproducibly() throws {
        let digits = try #require(SpeechDataTests.digits)
        let clips = Array(0..<40)
        let strings = digits.digitStrings(from: clips, passes: 2, seed: 5)
        #expect(strings.flatMap(\.clips).sorted() == (clips + clips).sorted())  // every clip once per pass
        #expect(strings.allSatisfy { (2...6).contains($0.clips.count) && $0.digits == $0.clips.map { digits.digits[$0] } })
        let s = strings[0]
        #expect(s.samples.count > s.clips.map { digits.clips[$0].count }.reduce(0, +))  // the gaps
        #expect(digits.digitStrings(from: clips, passes: 2, seed: 5).map(\.clips) == strings.map(\.clips))
    }

    @Test func logMelPeaksAtATonesFrequency() {
        // A 1 kHz tone: its power spectrum peaks at bin 1000 / (8000 / 200) = 25, and the mel band whose
        // centre is nearest 1 kHz carries the most energy.
        let mel = LogMelSpectrogram(sampleRate: 8000, windowLength: 200, hop: 80, bandCount: 40)
        let tone = (0..<1600).map { Float(sin(2 * Double.pi * 1000 * Double($0) / 8000)) }
        let power = mel.powerSpectrum(tone)
        #expect(power.shape == [mel.frameCount(samples: 1600), 101] && power.shape[0] == 18)
        let row = (0..<101).map { power[3, $0] }
        #expect(row.indices.max { row[$0] < row[$1] } == 25)
        let energies = mel(tone)
        let bands = (0..<40).map { energies[3, $0] }
        let best = bands.indices.max { bands[$0] < bands[$1] }!
        let centres = (1...40).map { LogMelSpectrogram.hertz(LogMelSpectrogram.mel(4000) * Double($0) / 41) }
        #expect(abs(centres[best] - 1000) < centres[best] - centres[best - 1] + 1)
        // Filters are triangles that overlap so that between two centres they sum to 1.
        let k = 30  // 1,200 Hz
        let sum = (0..<40).map { mel.filters[k * 40 + $0] }.reduce(0, +)
        #expect(abs(sum - 1) < 1e-4)
    }
}
