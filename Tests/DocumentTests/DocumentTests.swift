// The documents against the logs: README.md and every chapter's README.md may quote only numbers that appear in
// the committed logs they cite, link only files that exist, and name no commit. A number is a decimal
// ("87.2", "0.69") or a percentage ("42%"); numbers inside `code` and ```blocks``` (commands, flags, settings)
// are not checked, nor are the paper's section numbers. A quoted number is found when it occurs in one of the
// document's logs as written, as a whole number ("17.2" is not found in "117.2").
import Foundation
import Testing

@Suite("Documents")
struct DocumentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// README.md and chapters/*/README.md.
    static var documents: [URL] {
        let chapters = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("chapters").path)) ?? []
        return [root.appendingPathComponent("README.md")]
            + chapters.sorted().map { root.appendingPathComponent("chapters/\($0)/README.md") }
    }

    /// The text outside code blocks and inline code.
    static func prose(_ text: String) -> String {
        var kept: [Substring] = [], inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inBlock.toggle(); continue }
            if !inBlock { kept.append(line) }
        }
        return kept.joined(separator: "\n").replacingOccurrences(of: "`[^`]*`", with: " ", options: .regularExpression)
    }

    /// The targets of markdown links, relative to `document`.
    static func links(_ text: String, of document: URL) -> [URL] {
        let pattern = try! NSRegularExpression(pattern: #"\]\(([^)#\s]+)(#[^)]*)?\)"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            let target = String(text[Range(match.range(at: 1), in: text)!])
            guard !target.hasPrefix("http") else { return nil }
            return document.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL
        }
    }

    /// Whether `number` occurs in `text` as a whole number: "17.2" is not found in "117.2" or "17.25".
    static func occurs(_ number: String, in text: String) -> Bool {
        let escaped = NSRegularExpression.escapedPattern(for: number)
        return text.range(of: #"(?<![\d.])"# + escaped + #"(?!\d|\.\d)"#, options: .regularExpression) != nil
    }

    @Test func everyQuotedNumberIsInALogTheDocumentCites() throws {
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            let logs = Self.links(text, of: document).filter { $0.path.contains("/results/") && $0.pathExtension == "txt" }
            let logText = try logs.map { try String(contentsOf: $0, encoding: .utf8) }.joined(separator: "\n")
            let numbers = try NSRegularExpression(pattern: #"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?%|(?<![\w.])-?\d+\.\d+(?![\w.])"#)
            let prose = Self.prose(text)
            var missing: [String] = []
            for match in numbers.matches(in: prose, range: NSRange(prose.startIndex..., in: prose)) {
                let range = Range(match.range, in: prose)!, number = String(prose[range])
                // The paper's section numbers ("section 3.2", "sections 4.1-4.3") are not results.
                let before = prose[(prose.index(range.lowerBound, offsetBy: -10, limitedBy: prose.startIndex) ?? prose.startIndex)..<range.lowerBound]
                if before.range(of: #"sections? $"#, options: .regularExpression) != nil { continue }
                let bare = number.replacingOccurrences(of: ",", with: "")
                let forms = [number, bare, bare.replacingOccurrences(of: "%", with: "")]
                if !forms.contains(where: { Self.occurs($0, in: logText) }) { missing.append(number) }
            }
            #expect(missing.isEmpty, "\(document.lastPathComponent) of \(document.deletingLastPathComponent().lastPathComponent): numbers in no cited log (\(logs.count) logs): \(missing.prefix(20))")
        }
    }

    @Test func everyLinkResolves() throws {
        for document in Self.documents + [Self.root.appendingPathComponent("results/README.md"), Self.root.appendingPathComponent("pretrained/README.md")]
            + ["speed", "deviations", "troubleshooting"].map({ Self.root.appendingPathComponent("docs/\($0).md") }) {
            let text = try String(contentsOf: document, encoding: .utf8)
            let broken = Self.links(text, of: document).filter { !FileManager.default.fileExists(atPath: $0.path) }
            #expect(broken.isEmpty, "\(document.path): broken links \(broken.map(\.lastPathComponent))")
        }
    }

    @Test func theFrontPageIsShortAndNamesNoCommit() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.split(separator: "\n", omittingEmptySubsequences: false).count <= 250)
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            let hashes = try NSRegularExpression(pattern: #"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b"#)
            let found = hashes.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range, in: text)!]) }
            #expect(found.isEmpty, "\(document.path) names commits: \(found)")
        }
    }

    @Test func everyChapterHasAReadme() {
        for document in Self.documents.dropFirst() { #expect(FileManager.default.fileExists(atPath: document.path), "\(document.path)") }
    }
}
