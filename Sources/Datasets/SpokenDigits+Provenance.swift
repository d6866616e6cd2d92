// What a speech checkpoint heard, written into its metadata and read back before it is scored: each speaker's
// takes as ranges, "george:5-49 jackson:5-49 theo:0-3,5-49". A checkpoint must never be scored on a clip it
// pretrained on (unlabelled or not): with FSDD's split its pretraining never heard takes 0-4, and with a
// held-out speaker it never heard that voice. `heardClips` finds the clips of a test set that it did hear.
// A take number stands for that take of all ten digits: exact for both splits, and on the safe side for any
// other set of clips (a clip may count as heard when only another digit of its take was).
import Foundation

extension SpokenDigits {
    /// The takes of each speaker among `indices`, as "name:ranges" separated by spaces, speakers by name.
    public func heardRecord(_ indices: [Int]) -> String {
        var takesBySpeaker: [String: Set<Int>] = [:]
        for i in indices { takesBySpeaker[speakerNames[speakers[i]] ?? "speaker\(speakers[i])", default: []].insert(takes[i]) }
        return takesBySpeaker.keys.sorted().map { name in
            let takes = takesBySpeaker[name]!.sorted()
            var ranges: [String] = []
            var start = takes[0], end = takes[0]
            for take in takes.dropFirst() + [Int.max] {
                if take == end + 1 { end = take; continue }
                ranges.append(start == end ? "\(start)" : "\(start)-\(end)")
                (start, end) = (take, take)
            }
            return "\(name):\(ranges.joined(separator: ","))"
        }.joined(separator: " ")
    }

    /// The clips among `indices` whose speaker and take the record lists; nil when the record cannot be read.
    public func heardClips(record: String, among indices: [Int]) -> [Int]? {
        guard let heard = SpokenDigits.parse(record) else { return nil }
        return indices.filter { i in heard[speakerNames[speakers[i]] ?? "speaker\(speakers[i])"]?.contains(takes[i]) ?? false }
    }

    /// "name:0-3,5 other:7" -> [name: {0, 1, 2, 3, 5}, other: {7}]; nil on anything else.
    static func parse(_ record: String) -> [String: Set<Int>]? {
        var result: [String: Set<Int>] = [:]
        for entry in record.split(separator: " ") {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            var takes = Set<Int>()
            for range in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let bounds = range.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, bounds.count <= 2, low >= 0, low <= high, high - low < 100_000
                else { return nil }
                takes.formUnion(low...high)
            }
            result[String(parts[0]), default: []].formUnion(takes)
        }
        return result
    }
}
