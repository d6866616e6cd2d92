// The datasets committed under data/ open with the project's own reader and have the documented shapes
// (data/README.md). A damaged or missing file fails here first, with the reader's message.
import Datasets
import Foundation
import Testing

/// The repository's data/ folder, found from this source file's location.
let dataFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("data")

@Suite("Committed datasets")
struct CommittedDataTests {
    func read(_ path: String) throws -> NPYArray { try NPY.read(dataFolder.appendingPathComponent(path)) }

    @Test func mnistHasItsDocumentedShapes() throws {
        let images = try read("vision/mnist_train_images.npy"), labels = try read("vision/mnist_train_labels.npy")
        #expect(images.shape == [10_000, 28, 28] && images.dtype == .uint8)
        #expect(labels.shape == [10_000])
        let digits = try labels.integers()
        #expect(Set(digits) == Set(0...9))
        #expect(try read("vision/mnist_test_images.npy").shape == [2_000, 28, 28])
    }

    @Test func speechOffsetsCoverTheAudio() throws {
        let audio = try read("speech/fsdd_train_audio.npy"), offsets = try read("speech/fsdd_train_offsets.npy").integers()
        #expect(audio.dtype == .int16 && offsets.count == 2_501)
        #expect(offsets.first == 0 && offsets.last == audio.count)
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 < $1 })
        #expect(try read("speech/fsdd_train_labels.npy").shape == [2_500])
    }
}
