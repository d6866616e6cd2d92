// GPT-2's tokenizer files, so that a tokenizer trained here loads in Python (`tokenizers`, `transformers`):
//
//   vocab.json   {"token": id, ...}: each token's bytes written as printable characters (GPT-2's
//                `bytes_to_unicode`: the printable bytes ! .. ~, ¡ .. ¬, ® .. ÿ stand for themselves, the other
//                68 bytes for the characters U+0100 onwards; a space is "Ġ"), plus <s>, <pad>, </s>, <unk>, <mask>
//   merges.txt   "#version: 0.2", then one merge per line, "left right", in the order they were learned
import Autograd
import Foundation

extension BytePairEncoding {
    /// GPT-2's printable stand-in for each byte.
    public static let printable: [Character] = {
        var table = [Character](repeating: " ", count: 256)
        var extra = 0
        for byte in 0..<256 {
            let stands = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            table[byte] = Character(Unicode.Scalar(stands ? UInt32(byte) : UInt32(256 + extra))!)
            if !stands { extra += 1 }
        }
        return table
    }()

    /// The byte each printable stand-in means.
    static let byteOfPrintable: [Character: UInt8] = Dictionary(uniqueKeysWithValues: printable.enumerated().map { ($1, UInt8($0)) })

    /// A token's bytes as GPT-2 writes them.
    func printableToken(_ id: Int) -> String { String(bytesOfID[id].map { BytePairEncoding.printable[Int($0)] }) }

    /// Writes `vocab.json` and `merges.txt` into `folder` (each written whole, through a temporary file).
    public func save(to folder: URL) throws {
        var vocabulary: [String: Int] = ["<s>": BytePairEncoding.beginning, "<pad>": BytePairEncoding.padding,
                                         "</s>": BytePairEncoding.end, "<unk>": BytePairEncoding.unknown, "<mask>": mask]
        for id in BytePairEncoding.firstByte..<bytesOfID.count { vocabulary[printableToken(id)] = id }
        let json = try JSONSerialization.data(withJSONObject: vocabulary, options: [.sortedKeys])
        try AtomicFile.write(json, to: folder.appendingPathComponent("vocab.json"))
        let lines = ["#version: 0.2"] + merges.map { "\(printableToken($0.0)) \(printableToken($0.1))" }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("merges.txt"))
    }

    /// Reads a tokenizer written by `save(to:)` (its merges decide everything; the vocabulary is checked against them).
    public static func load(from folder: URL) throws -> BytePairEncoding {
        let mergesURL = folder.appendingPathComponent("merges.txt"), vocabularyURL = folder.appendingPathComponent("vocab.json")
        guard let text = try? String(contentsOf: mergesURL, encoding: .utf8) else {
            throw TokenizerError.badFile(path: mergesURL.path, reason: "cannot read it as UTF-8 text")
        }
        guard let data = try? Data(contentsOf: vocabularyURL),
              let vocabulary = (try? JSONSerialization.jsonObject(with: data)) as? [String: Int] else {
            throw TokenizerError.badFile(path: vocabularyURL.path, reason: "not a JSON object of token -> id")
        }
        var idOfToken: [String: Int] = [:]
        for byte in 0..<256 { idOfToken[String(printable[byte])] = firstByte + byte }
        var merges: [(Int, Int)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if number == 0 && line.hasPrefix("#version") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = idOfToken[String(parts[0])], let b = idOfToken[String(parts[1])] else {
                throw TokenizerError.badFile(path: mergesURL.path, reason: "line \(number + 1) is not two known tokens separated by a space")
            }
            merges.append((a, b))
            let result = String(parts[0]) + String(parts[1])
            if idOfToken[result] == nil { idOfToken[result] = firstMerge + idOfToken.count - 256 }
        }
        let tokenizer = try BytePairEncoding(merges: merges)
        for id in firstByte..<tokenizer.bytesOfID.count where vocabulary[tokenizer.printableToken(id)] != id {
            throw TokenizerError.badFile(path: vocabularyURL.path, reason: "token '\(tokenizer.printableToken(id))' should have id \(id)")
        }
        guard vocabulary["<mask>"] == tokenizer.mask, vocabulary["<s>"] == beginning, vocabulary["<pad>"] == padding,
              vocabulary["</s>"] == end, vocabulary["<unk>"] == unknown, vocabulary.count == tokenizer.vocabularySize else {
            throw TokenizerError.badFile(path: vocabularyURL.path, reason: "the special tokens or the size do not match merges.txt")
        }
        return tokenizer
    }
}
