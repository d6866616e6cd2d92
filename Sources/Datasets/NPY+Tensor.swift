// Converting between .npy arrays and tensors.
import Autograd
import Foundation

extension NPYArray {
    /// The elements as a Float32 tensor of the same shape (integers converted exactly up to 2^24).
    public func tensor() -> Tensor { Tensor(shape: shape, floats()) }
}

extension NPY {
    /// Reads a .npy file into a Float32 tensor.
    public static func readTensor(_ url: URL) throws(NPYError) -> Tensor { try read(url).tensor() }

    /// Writes a tensor as a float32 .npy file (atomically).
    public static func write(_ tensor: Tensor, to url: URL) throws(NPYError) {
        try write(NPYArray(shape: tensor.shape, floats: tensor.scalars), to: url)
    }
}
