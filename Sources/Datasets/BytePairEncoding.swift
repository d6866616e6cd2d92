// Byte-level byte-pair encoding (BPE), GPT-2's tokenizer (Radford et al., 2019), trained here on a corpus.
//
// 1. Bytes are the alphabet: any text is a sequence of UTF-8 bytes, so no input is ever "unknown".
// 2. A pre-split cuts text into words and punctuation, each keeping the space before it (GPT-2's pattern:
//    contractions 's 't 're 've 'm 'll 'd; an optional space and a run of letters; of digits; of other
//    symbols; runs of whitespace). Merges never cross these boundaries.
// 3. Training counts every adjacent pair of symbols in the words (weighted by word frequency), merges the
//    most frequent pair into a new symbol, and repeats until the vocabulary has the asked size. The merges,
//    in order, are the model.
// 4. Encoding a word applies the learned merges by rank: repeatedly merge the adjacent pair that was learned
//    first, until no learned pair remains.
//
// Ids follow fairseq's dictionary (what data2vec and RoBERTa use): <s> 0, <pad> 1, </s> 2, <unk> 3, then the
// 256 bytes, then one id per merge, and <mask> last. The files are GPT-2's: vocab.json (token -> id, bytes
// written with GPT-2's printable byte-to-character table) and merges.txt, which Python's `tokenizers` loads.
import Foundation

/// A trained byte-level BPE tokenizer.
public struct BytePairEncoding: Sendable {
    /// fairseq's special ids: <s>, <pad>, </s>, <unk>.
    public static let beginning = 0, padding = 1, end = 2, unknown = 3
    /// The first id of a byte (byte b has id `firstByte + b`).
    public static let firstByte = 4

    /// The learned merges in order: merge i joins the symbols `merges[i].0` and `.1` into `mergeResults[i]`.
    public let merges: [(Int, Int)]
    /// The id each merge produces: a new id, or the id of an earlier token with the same bytes (two merge
    /// orders can spell the same string; GPT-2's files then hold the token once).
    public let mergeResults: [Int]
    /// Each id's bytes (empty for the special symbols).
    public let bytesOfID: [[UInt8]]
    /// The rank of each mergeable pair (its position in `merges`).
    let rank: [SymbolPair: Int]

    /// The id of `<mask>`: the last one.
    public var mask: Int { bytesOfID.count }
    /// Ids in all, `<mask>` included.
    public var vocabularySize: Int { bytesOfID.count + 1 }
    static let firstMerge = firstByte + 256

    /// A tokenizer from its merges (pairs of ids, each either a byte id or the id of an earlier merge).
    public init(merges: [(Int, Int)]) throws {
        var bytes: [[UInt8]] = [[], [], [], []] + (0..<256).map { [UInt8($0)] }
        var idOfBytes: [[UInt8]: Int] = [:]
        for id in BytePairEncoding.firstByte..<bytes.count { idOfBytes[bytes[id]] = id }
        var rank: [SymbolPair: Int] = [:]
        var results: [Int] = []
        for (i, (a, b)) in merges.enumerated() {
            guard a >= BytePairEncoding.firstByte, b >= BytePairEncoding.firstByte, a < bytes.count, b < bytes.count else {
                throw TokenizerError.badMerges(reason: "merge \(i + 1) joins ids \(a) and \(b), which do not exist before it")
            }
            guard rank[SymbolPair(a, b)] == nil else { throw TokenizerError.badMerges(reason: "merge \(i + 1) repeats an earlier merge") }
            rank[SymbolPair(a, b)] = i
            let joined = bytes[a] + bytes[b]
            if let existing = idOfBytes[joined] {
                results.append(existing)
            } else {
                idOfBytes[joined] = bytes.count
                results.append(bytes.count)
                bytes.append(joined)
            }
        }
        self.merges = merges
        self.mergeResults = results
        self.bytesOfID = bytes
        self.rank = rank
    }

    // MARK: Pre-splitting

    /// GPT-2's pre-split of `text` into pieces, each a slice of the original text (spaces kept), following its
    /// pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` on Unicode scalars.
    public static func split(_ text: String) -> [Substring] {
        let scalars = text.unicodeScalars
        var pieces: [Substring] = []
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            let next = scalars.index(after: i)
            // Contractions: 's 't 'm 'd 're 've 'll.
            if c == "'" {
                let rest = scalars[next...]
                if let suffix = ["re", "ve", "ll", "s", "t", "m", "d"].first(where: { rest.starts(with: $0.unicodeScalars) }) {
                    let end = scalars.index(next, offsetBy: suffix.unicodeScalars.count)
                    pieces.append(text[i..<end])
                    i = end
                    continue
                }
            }
            // An optional single space before a run of letters, of digits, or of other symbols.
            var j = i
            if c == " ", next < scalars.endIndex, !isSpace(scalars[next]) { j = next }
            let kind = kindOf(scalars[j])
            if kind == .space {
                // A run of whitespace. When more text follows, its last whitespace character is left for the
                // next piece (`\s+(?!\S)`), where a final space joins the word after it.
                var end = i
                while end < scalars.endIndex && isSpace(scalars[end]) { end = scalars.index(after: end) }
                if end < scalars.endIndex, scalars.index(before: end) > i { end = scalars.index(before: end) }
                pieces.append(text[i..<end])
                i = end
                continue
            }
            var end = scalars.index(after: j)
            while end < scalars.endIndex && kindOf(scalars[end]) == kind { end = scalars.index(after: end) }
            pieces.append(text[i..<end])
            i = end
        }
        return pieces
    }

    enum ScalarKind { case letter, number, space, other }

    static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

    static func kindOf(_ s: Unicode.Scalar) -> ScalarKind {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    // MARK: Training

    /// Learns merges from `text` until the vocabulary holds `vocabularySize` ids (4 specials, 256 bytes and
    /// `<mask>` are 261 of them).
    /// Ties between equally frequent pairs go to the pair of smaller ids, so training is deterministic.
    /// `progress` is called with the number of merges learned so far (for the vocabulary-growth figure).
    public static func train(on text: String, vocabularySize: Int, progress: ((Int, [[Int]], [Int]) -> Void)? = nil) throws -> BytePairEncoding {
        guard vocabularySize >= firstMerge + 1 else { throw TokenizerError.badMerges(reason: "a vocabulary of \(vocabularySize) cannot hold the 261 fixed symbols") }
        // Distinct pieces and how often each occurs.
        var frequency: [Substring: Int] = [:]
        for piece in split(text) { frequency[piece, default: 0] += 1 }
        let pieces = frequency.keys.sorted()
        var words = pieces.map { Array($0.utf8).map { Int($0) + firstByte } }
        let counts = pieces.map { frequency[$0]! }
        // Pair counts, and which words hold each pair.
        var pairCount: [SymbolPair: Int] = [:]
        var holders: [SymbolPair: Set<Int>] = [:]
        for (w, word) in words.enumerated() where word.count > 1 {
            for k in 0..<(word.count - 1) {
                let pair = SymbolPair(word[k], word[k + 1])
                pairCount[pair, default: 0] += counts[w]
                holders[pair, default: []].insert(w)
            }
        }
        var merges: [(Int, Int)] = []
        var idOfBytes: [[UInt8]: Int] = [:]
        var bytesOfID: [[UInt8]] = [[], [], [], []] + (0..<256).map { [UInt8($0)] }
        for id in firstByte..<bytesOfID.count { idOfBytes[bytesOfID[id]] = id }
        while bytesOfID.count + 1 < vocabularySize {
            guard let best = pairCount.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }), best.value > 0 else { break }
            let pair = best.key
            merges.append((pair.first, pair.second))
            let joined = bytesOfID[pair.first] + bytesOfID[pair.second]
            let newID = idOfBytes[joined] ?? bytesOfID.count
            if newID == bytesOfID.count { idOfBytes[joined] = newID; bytesOfID.append(joined) }
            for w in holders[pair] ?? [] {
                let word = words[w]
                // Remove this word's old pairs, merge, add its new pairs.
                for k in 0..<(word.count - 1) {
                    let old = SymbolPair(word[k], word[k + 1])
                    pairCount[old, default: 0] -= counts[w]
                    holders[old]?.remove(w)
                }
                var merged: [Int] = []
                var k = 0
                while k < word.count {
                    if k + 1 < word.count && word[k] == pair.first && word[k + 1] == pair.second { merged.append(newID); k += 2 }
                    else { merged.append(word[k]); k += 1 }
                }
                words[w] = merged
                for k in 0..<max(0, merged.count - 1) {
                    let new = SymbolPair(merged[k], merged[k + 1])
                    pairCount[new, default: 0] += counts[w]
                    holders[new, default: []].insert(w)
                }
            }
            pairCount[pair] = nil
            holders[pair] = nil
            progress?(merges.count, words, counts)
        }
        return try BytePairEncoding(merges: merges)
    }

    // MARK: Encoding and decoding

    /// The ids of one pre-split piece: its bytes, merged by rank.
    public func encode(piece: Substring) -> [Int] {
        var symbols = Array(piece.utf8).map { Int($0) + BytePairEncoding.firstByte }
        while symbols.count > 1 {
            var bestRank = Int.max, bestAt = -1
            for k in 0..<(symbols.count - 1) {
                if let r = rank[SymbolPair(symbols[k], symbols[k + 1])], r < bestRank { (bestRank, bestAt) = (r, k) }
            }
            guard bestAt >= 0 else { break }
            let pair = merges[bestRank], newID = mergeResults[bestRank]
            var merged: [Int] = []
            var k = 0
            while k < symbols.count {
                if k + 1 < symbols.count && symbols[k] == pair.0 && symbols[k + 1] == pair.1 { merged.append(newID); k += 2 }
                else { merged.append(symbols[k]); k += 1 }
            }
            symbols = merged
        }
        return symbols
    }

    /// The ids of `text` (without <s> and </s>).
    public func encode(_ text: String) -> [Int] { BytePairEncoding.split(text).flatMap { encode(piece: $0) } }

    /// The text of `ids`; special symbols are left out. Decoding the encoding of any string gives it back.
    public func decode(_ ids: [Int]) -> String {
        let bytes = ids.flatMap { $0 >= 0 && $0 < bytesOfID.count ? bytesOfID[$0] : [] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A readable form of one id ("<s>", "<mask>", or its text with spaces shown as "Ġ", GPT-2's habit).
    public func symbol(_ id: Int) -> String {
        switch id {
        case BytePairEncoding.beginning: "<s>"
        case BytePairEncoding.padding: "<pad>"
        case BytePairEncoding.end: "</s>"
        case BytePairEncoding.unknown: "<unk>"
        case mask: "<mask>"
        default: String(bytesOfID[id].map { BytePairEncoding.printable[Int($0)] })
        }
    }
}

/// An ordered pair of symbol ids.
struct SymbolPair: Hashable, Comparable, Sendable {
    let first: Int, second: Int
    init(_ first: Int, _ second: Int) { self.first = first; self.second = second }
    static func < (a: SymbolPair, b: SymbolPair) -> Bool { (a.first, a.second) < (b.first, b.second) }
}

/// Why a tokenizer cannot be built or read.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case badMerges(reason: String)
    case badFile(path: String, reason: String)

    /// What is wrong, and which file.
    public var description: String {
        switch self {
        case .badMerges(let reason): "BPE merges: \(reason)"
        case .badFile(let path, let reason): "\(path): \(reason). Write the tokenizer again (BytePairEncoding.save)."
        }
    }
}
