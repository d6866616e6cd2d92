// The datasets committed under data/ open with the project's own reader and have the documented shapes
// (data/README.md). A damaged or missing file fails here first, with the reader's message.
import Autograd
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

@Suite("MNIST loader")
struct MNISTTests {
    @Test func loadsAndStandardizes() throws {
        let train = try MNIST(directory: dataFolder, split: .train)
        #expect(train.count == 10_000 && train.pixels.count == 10_000 * 784)
        // Standardized with MNIST's mean and std: a black pixel is -0.1307 / 0.3081 = -0.4242.
        #expect(abs(train.pixels.min()! - (-0.1307 / 0.3081)) < 1e-5)
        let mean = train.pixels.reduce(0, +) / Float(train.pixels.count)
        #expect(abs(mean) < 0.05)
        let (images, labels) = train.batch([0, 5])
        #expect(images.shape == [2, 28, 28] && labels == [train.labels[0], train.labels[5]])
    }

    @Test func missingFolderSaysWhatToDo() {
        #expect(throws: NPYError.self) { try MNIST(directory: URL(fileURLWithPath: "/nonexistent"), split: .test) }
        do { _ = try MNIST(directory: URL(fileURLWithPath: "/nonexistent"), split: .test) } catch {
            #expect("\(error)".contains("--data-dir"))
        }
    }
}
