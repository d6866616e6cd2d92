// MNIST digits from the project's .npy files (data/vision; provenance in data/README.md):
//   mnist_{train,test}_images.npy  uint8 [N, 28, 28];   mnist_{train,test}_labels.npy  int64 [N]
// Pixels are scaled to [0, 1] and then standardized with MNIST's mean 0.1307 and std 0.3081.
import Autograd
import Foundation

/// MNIST images (standardized) and labels.
public struct MNIST: Sendable {
    /// Which files: mnist_train_* or mnist_test_*.
    public enum Split: String, Sendable { case train, test }

    /// Standardized pixels, row-major: image i is `pixels[784 * i ..< 784 * (i + 1)]`.
    public let pixels: [Float]
    /// The digit of each image.
    public let labels: [Int]
    /// The number of images.
    public var count: Int { labels.count }

    /// MNIST's pixel mean and standard deviation (of pixels in [0, 1]).
    public static let mean: Float = 0.1307, std: Float = 0.3081

    /// Reads `<directory>/vision/mnist_<split>_{images,labels}.npy`.
    public init(directory: URL, split: Split) throws {
        let folder = directory.appendingPathComponent("vision")
        let imagesURL = folder.appendingPathComponent("mnist_\(split.rawValue)_images.npy")
        let labelsURL = folder.appendingPathComponent("mnist_\(split.rawValue)_labels.npy")
        let images = try NPY.read(imagesURL), labels = try NPY.read(labelsURL)
        guard images.dtype == .uint8, images.shape.count == 3, images.shape[1] == 28, images.shape[2] == 28 else {
            throw NPYError.wrongDType(path: imagesURL.path, expected: "uint8 images of shape [N, 28, 28]",
                                      found: "\(images.dtype.rawValue) with shape \(images.shape)")
        }
        guard images.shape[0] > 0 else {
            throw NPYError.unexpectedContent(path: imagesURL.path, expected: "at least one image", found: "none")
        }
        let values = try labels.integers(path: labelsURL.path)
        guard values.count == images.shape[0] else {
            throw NPYError.unexpectedContent(path: labelsURL.path, expected: "one label per image (\(images.shape[0]))", found: "\(values.count) labels")
        }
        if let bad = values.first(where: { !(0...9).contains($0) }) {
            throw NPYError.unexpectedContent(path: labelsURL.path, expected: "digits 0...9", found: "the label \(bad)")
        }
        self.labels = values
        // A plain loop over the raw bytes (`Data.map` pays an exclusivity check per byte: 0.5 s here).
        pixels = images.bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: raw.count) { buffer, count in
                for i in 0..<raw.count { buffer[i] = (Float(raw[i]) / 255 - MNIST.mean) / MNIST.std }
                count = raw.count
            }
        }
    }

    init(pixels: [Float], labels: [Int]) {
        self.pixels = pixels
        self.labels = labels
    }

    /// A dataset of the images at `indices` (in that order).
    public func subset(_ indices: [Int]) -> MNIST {
        MNIST(pixels: indices.flatMap { pixels[(784 * $0)..<(784 * ($0 + 1))] }, labels: indices.map { labels[$0] })
    }

    /// The images at `indices` as [B, 28, 28], and their labels.
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        var values: [Float] = []
        values.reserveCapacity(indices.count * 784)
        for i in indices { values += pixels[(784 * i)..<(784 * (i + 1))] }
        return (Tensor(shape: [indices.count, 28, 28], values), indices.map { labels[$0] })
    }
}

extension MNIST {
    /// The images at `indices` as [B, 28, 28], each moved by its own random shift of up to `maxShift` pixels
    /// across and down (uniform in -maxShift...maxShift); what moves in from outside is background. The light
    /// augmentation few-label training on MNIST uses: a digit a pixel or two off centre is the same digit.
    public func shiftedBatch(_ indices: [Int], maxShift: Int, using rng: inout RandomGenerator) -> (images: Tensor, labels: [Int]) {
        let background = -MNIST.mean / MNIST.std  // a 0 pixel, standardized
        var values = [Float](repeating: background, count: indices.count * 784)
        for (row, i) in indices.enumerated() {
            let dx = Int(rng.next() % UInt64(2 * maxShift + 1)) - maxShift
            let dy = Int(rng.next() % UInt64(2 * maxShift + 1)) - maxShift
            for y in max(0, dy)..<min(28, 28 + dy) {
                for x in max(0, dx)..<min(28, 28 + dx) {
                    values[row * 784 + y * 28 + x] = pixels[784 * i + (y - dy) * 28 + (x - dx)]
                }
            }
        }
        return (Tensor(shape: [indices.count, 28, 28], values), indices.map { labels[$0] })
    }
}
