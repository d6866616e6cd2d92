// The byte-level BPE tokenizer of chapter 07 (Sources/Datasets/BytePairEncoding.swift): merges worked out by
// hand on a tiny corpus, GPT-2's pre-split, the same ids as Hugging Face's `tokenizers` on committed files,
// and the promise of a byte alphabet: every text round-trips and nothing is ever unknown.
import Autograd
import Datasets
import Foundation
import Testing

@Suite("Byte-pair encoding")
struct BytePairEncodingTests {
    /// Byte b has id 4 + b (after <s>, <pad>, </s>, <unk>): "a" (97) is 101, "b" 102, "c" 103, " " (32) is 36.
    static let a = 101, b = 102, c = 103, d = 104, space = 36

    /// "ab ab ab abc" pre-splits into "ab" once, " ab" twice and " abc" once. Counting adjacent pairs, weighted
    /// by how often each piece occurs:
    ///   (a, b): 1 + 2 + 1 = 4,  (space, a): 2 + 1 = 3,  (b, c): 1.
    /// Merge 1 joins (a, b) into the first new id, 260. The pieces become [260], [36, 260] x2, [36, 260, 103]:
    ///   (space, 260): 3,  (260, c): 1.
    /// Merge 2 joins (space, 260) into 261, " ab". A vocabulary of 263 (4 specials + 256 bytes + 2 merges +
    /// <mask>) stops there, so " abc" is " ab" followed by the byte "c".
    @Test func mergesOfATinyCorpusWorkedByHand() throws {
        let t = try BytePairEncoding.train(on: "ab ab ab abc", vocabularySize: 263)
        #expect(t.merges.map { [$0.0, $0.1] } == [[Self.a, Self.b], [Self.space, 260]])
        #expect(t.mergeResults == [260, 261])
        #expect(t.vocabularySize == 263 && t.mask == 262)
        #expect(t.encode("ab ab ab abc") == [260, 261, 261, 261, Self.c])
        #expect(t.encode("ab") == [260] && t.encode(" ab") == [261] && t.encode("ba") == [Self.b, Self.a])
        #expect(t.symbol(261) == "Ġab" && t.symbol(262) == "<mask>" && t.symbol(1) == "<pad>")
    }

    /// "ab cd": three pairs, each seen once. Ties go to the pair of smaller ids, so (space, c) = (36, 103) comes
    /// first and becomes 260 (" c"); then (a, b) = (101, 102) becomes 261; then (260, d) becomes 262 (" cd").
    @Test func tiesGoToThePairOfSmallerIDs() throws {
        let t = try BytePairEncoding.train(on: "ab cd", vocabularySize: 264)
        #expect(t.merges.map { [$0.0, $0.1] } == [[Self.space, Self.c], [Self.a, Self.b], [260, Self.d]])
        #expect(t.encode("ab cd") == [261, 262])
    }

    /// Training stops early when no pair is left to merge; the vocabulary is then smaller than asked.
    @Test func trainingStopsWhenNothingIsLeftToMerge() throws {
        let t = try BytePairEncoding.train(on: "ab", vocabularySize: 1_000)
        #expect(t.merges.count == 1 && t.vocabularySize == 262)
        #expect(throws: TokenizerError.self) { try BytePairEncoding.train(on: "ab", vocabularySize: 100) }
    }

    /// GPT-2's pattern: contractions split off, letters, numbers and punctuation each keep the one space before
    /// them, and of a run of spaces all but the last stand alone (`\s+(?!\S)`), so the last joins the next word.
    @Test func preSplitFollowsGPT2() {
        #expect(BytePairEncoding.split("Hello world's 123  end!?").map(String.init)
                == ["Hello", " world", "'s", " 123", " ", " end", "!?"])
        #expect(BytePairEncoding.split("they'll go\n\nnow ").map(String.init) == ["they", "'ll", " go", "\n", "\n", "now", " "])
        #expect(BytePairEncoding.split("").isEmpty)
    }

    /// The fixture folder bpe-600: a tokenizer this code trained and saved, a sample text, and the ids Hugging
    /// Face's `tokenizers` gives the sample from the same two files (Fixtures/make_bpe_fixture.py).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bpe-600")

    @Test func encodesLikeHuggingFaceTokenizers() throws {
        let t = try BytePairEncoding.load(from: Self.fixtures)
        let sample = try String(contentsOf: Self.fixtures.appendingPathComponent("sample.txt"), encoding: .utf8)
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("sample.hf-ids.txt"), encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).map { Int($0)! }
        let ids = t.encode(sample)
        #expect(ids.count == expected.count)
        #expect(ids == expected)
        #expect(t.decode(ids) == sample)
    }

    @Test func trainingAgainGivesTheCommittedMerges() throws {
        let committed = try BytePairEncoding.load(from: Self.fixtures)
        let head = String(String.UnicodeScalarView(try readText(dataFolder.appendingPathComponent("text/corpus_train.txt")).unicodeScalars.prefix(60_000)))
        let trained = try BytePairEncoding.train(on: head, vocabularySize: 600)
        #expect(trained.merges.map { [$0.0, $0.1] } == committed.merges.map { [$0.0, $0.1] })
        #expect(trained.bytesOfID == committed.bytesOfID)
    }

    /// Decoding the encoding gives back the exact text, for the whole validation novel and every SST-2 sentence.
    @Test func roundTripsTheValidationNovelAndSST2() throws {
        let t = try BytePairEncoding.load(from: Self.fixtures)
        let novel = try readText(dataFolder.appendingPathComponent("text/corpus_valid.txt"))
        #expect(t.decode(t.encode(novel)) == novel)
        let sst2 = try SST2(dataFolder.appendingPathComponent("text/sst2_dev.tsv"))
        let failures = sst2.sentences.filter { t.decode(t.encode($0)) != $0 }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
    }

    /// Random strings of any Unicode scalars (controls, NUL, accents, CJK, emoji, unpaired combining marks): every
    /// one round-trips, and every id is a byte or a merge, never <unk> or another special symbol.
    @Test func anyTextRoundTripsAndNothingIsUnknown() throws {
        let t = try BytePairEncoding.load(from: Self.fixtures)
        var rng = RandomGenerator(seed: 11)
        let ranges: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x300...0x36F, 0x4E00...0x9FFF, 0x1F300...0x1FAFF, 0x10000...0x10FFFF]
        for _ in 0..<300 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                let range = ranges.randomElement(using: &rng)!
                if let s = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { scalars.append(s) }
            }
            let text = String(scalars)
            let ids = t.encode(text)
            #expect(t.decode(ids) == text)
            #expect(ids.allSatisfy { $0 >= BytePairEncoding.firstByte && $0 < t.mask })
        }
    }
}

@Suite("Tokenizer fingerprint")
struct TokenizerFingerprintTests {
    /// Equal merges give equal fingerprints; another text (other merges) another one. A text checkpoint records it.
    @Test func theFingerprintFollowsTheMerges() throws {
        let a = try BytePairEncoding.train(on: "ab ab ab abc", vocabularySize: 263)
        let b = try BytePairEncoding.train(on: "ab ab ab abc", vocabularySize: 263)
        let c = try BytePairEncoding.train(on: "cd cd cd cde", vocabularySize: 263)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
    }
}
