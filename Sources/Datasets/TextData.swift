// Text for chapter 07 (data/text; provenance in data/README.md): novels for pretraining, one paragraph per
// line, and SST-2 sentiment labels in GLUE's TSV format ("sentence<TAB>label" after a header line).
import Foundation

/// Why a text file cannot be used. Each message names the file and what is wrong.
public enum TextDataError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, line: Int, reason: String)

    /// What is wrong, without the file's name (for messages that name it themselves).
    public var reason: String {
        switch self {
        case .unreadable(_, let reason): reason
        case .malformed(_, let line, let reason): "line \(line): \(reason)"
        }
    }

    /// What is wrong with which file.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read it: \(reason). Check the path (--data-dir is the folder that holds text/; --sst2-dev names an SST-2 dev file)."
        case .malformed(let path, let line, let reason): "\(path), line \(line): \(reason). Expected a header line, then sentence<TAB>label with label 0 or 1."
        }
    }
}

/// Reads a UTF-8 text file; a clear error when it is missing or not UTF-8.
public func readText(_ url: URL) throws(TextDataError) -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { throw .unreadable(path: url.path, reason: "no such file") }
    guard !isDirectory.boolValue else { throw .unreadable(path: url.path, reason: "this is a folder, not a file") }
    guard let data = try? Data(contentsOf: url) else { throw .unreadable(path: url.path, reason: "it could not be opened") }
    guard let text = String(data: data, encoding: .utf8) else { throw .unreadable(path: url.path, reason: "it is not UTF-8 text") }
    return text
}

/// Labelled sentences: SST-2 (GLUE's `train.tsv` / `dev.tsv`), label 1 positive, 0 negative.
public struct SST2: Sendable {
    /// The sentences (phrases in the training file).
    public let sentences: [String]
    /// 1 positive, 0 negative.
    public let labels: [Int]
    /// The number of rows.
    public var count: Int { labels.count }

    /// Reads a GLUE SST-2 TSV file: a header line `sentence<TAB>label`, then one row per sentence, each with
    /// exactly one tab (sentences never hold one). Windows line ends are read as line ends.
    public init(_ url: URL) throws(TextDataError) {
        let text = try readText(url).replacingOccurrences(of: "\r\n", with: "\n")
        var sentences: [String] = [], labels: [Int] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, header.hasPrefix("sentence\tlabel") else {
            throw .malformed(path: url.path, line: 1, reason: "the header is not 'sentence<TAB>label'")
        }
        for (number, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let tabs = line.filter { $0 == "\t" }.count
            guard tabs <= 1 else { throw .malformed(path: url.path, line: number + 1, reason: "\(tabs + 1) tab-separated columns, not 2") }
            guard let tab = line.lastIndex(of: "\t"), let label = Int(line[line.index(after: tab)...]), label == 0 || label == 1 else {
                throw .malformed(path: url.path, line: number + 1, reason: "no tab-separated label 0 or 1")
            }
            let sentence = line[..<tab]
            guard !sentence.trimmingCharacters(in: .whitespaces).isEmpty else { throw .malformed(path: url.path, line: number + 1, reason: "the sentence is empty") }
            sentences.append(String(sentence))
            labels.append(label)
        }
        guard !labels.isEmpty else { throw .malformed(path: url.path, line: lines.count, reason: "no rows after the header") }
        self.sentences = sentences
        self.labels = labels
    }

    init(sentences: [String], labels: [Int]) {
        self.sentences = sentences
        self.labels = labels
    }

    /// The rows at `indices`.
    public func subset(_ indices: [Int]) -> SST2 { SST2(sentences: indices.map { sentences[$0] }, labels: indices.map { labels[$0] }) }
}

extension BytePairEncoding {
    /// A text as fixed blocks for pretraining: each line (paragraph) encoded and followed by </s>, all
    /// concatenated, and cut into blocks of `length - 2` tokens, each wrapped as <s> block </s> (fairseq's
    /// `TokenBlockDataset` with `sample_break_mode none`, plus RoBERTa's <s> and </s>). The last partial block is dropped.
    public func blocks(of text: String, length: Int) -> [[Int]] {
        var stream: [Int] = []
        for line in text.split(separator: "\n") where !line.isEmpty { stream += encode(String(line)) + [BytePairEncoding.end] }
        let body = length - 2
        return stride(from: 0, to: stream.count - body + 1, by: body).map {
            [BytePairEncoding.beginning] + stream[$0..<($0 + body)] + [BytePairEncoding.end]
        }
    }

    /// One sentence as <s> tokens </s>, cut to at most `maxLength` ids.
    public func sentence(_ text: String, maxLength: Int) -> [Int] {
        let ids = encode(text.trimmingCharacters(in: .whitespaces))
        return [BytePairEncoding.beginning] + ids.prefix(max(0, maxLength - 2)) + [BytePairEncoding.end]
    }
}
