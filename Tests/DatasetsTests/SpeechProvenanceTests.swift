// What a speech checkpoint heard (Datasets/SpokenDigits+Provenance.swift): the record, read back, and refused
// when damaged.
import Autograd
@testable import Datasets
import Testing

@Suite("Speech checkpoint provenance")
struct SpeechProvenanceTests {
    @Test func theRecordListsEachSpeakersTakesAndFindsTheClipsItHeard() throws {
        let digits = try #require(SpeechDataTests.digits)
        let (train, test) = try digits.split()
        let record = digits.heardRecord(train)
        #expect(record == "george:5-49 jackson:5-49 nicolas:5-49 theo:5-49 yweweler:5-49")
        #expect(digits.heardClips(record: record, among: test) == [])  // FSDD's test takes were never heard
        let bySpeaker = try digits.split(testSpeakers: ["theo"])
        #expect(digits.heardClips(record: record, among: bySpeaker.test)?.count == 450)  // theo's takes 5-49
        #expect(SpokenDigits.parse(record)?.keys.sorted() == ["george", "jackson", "nicolas", "theo", "yweweler"])
        // A take stands for that take of every digit: the record errs on the safe side (more clips count as heard).
        let some = [train[0], train[1], train[2], train[7]]
        let heard = digits.heardClips(record: digits.heardRecord(some), among: train) ?? []
        #expect(Set(some).isSubset(of: Set(heard)))
        #expect(heard.allSatisfy { i in some.contains { digits.speakers[$0] == digits.speakers[i] && digits.takes[$0] == digits.takes[i] } })
    }

    /// Damaged records are unreadable (nil), never a crash: the chapter then refuses the checkpoint.
    @Test func damagedRecordsAreRefused() {
        for bad in ["george", "george:", ":5-9", "george:9-5", "george:a-b", "george:5-9-12", "george:-3", "george:5,,7", "george:0-99999999"] {
            #expect(SpokenDigits.parse(bad) == nil, "\(bad)")
        }
        var rng = RandomGenerator(seed: 9)
        let alphabet = Array("georg:0123456789-, x")
        for _ in 0..<500 {
            let text = String((0..<rng.int(below: 30)).map { _ in alphabet[rng.int(below: alphabet.count)] })
            _ = SpokenDigits.parse(text)  // must return, whatever it reads
        }
        #expect(SpokenDigits.parse("")?.isEmpty == true)
    }
}
