// Fingerprints of data, so that a checkpoint can say what it was pretrained on and a chapter can refuse to
// score it on the same examples. FNV-1a (Fowler, Noll, Vo), 64 bits: a multiply and an exclusive-or per
// byte, no table, no dependency. It is not a cryptographic hash; it tells datasets and examples apart, which
// is all that is asked of it here.

/// FNV-1a over bytes, 64 bits.
public struct Fingerprint: Sendable, Equatable, CustomStringConvertible {
    /// The hash so far.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325  // the FNV-1a 64-bit offset basis

    /// The hash of no bytes.
    public init() {}

    /// Folds `bytes` into the hash.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3  // the FNV-1a 64-bit prime
        }
    }

    /// Folds the bit patterns of `floats` into the hash.
    public mutating func add(_ floats: ArraySlice<Float>) {
        floats.withUnsafeBytes { add($0) }
    }

    /// Folds another fingerprint into this one (to hash a list of hashes).
    public mutating func add(_ other: UInt64) {
        withUnsafeBytes(of: other.littleEndian) { add($0) }
    }

    /// Sixteen hexadecimal digits.
    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension MNIST {
    /// One fingerprint per image, of its 784 standardized pixels (equal images, equal fingerprints).
    public func imageFingerprints() -> [UInt64] {
        (0..<count).map { i in
            var hash = Fingerprint()
            hash.add(pixels[(784 * i)..<(784 * (i + 1))])
            return hash.value
        }
    }

    /// The fingerprint of the whole set: of its images' fingerprints, in order.
    public var fingerprint: Fingerprint {
        var hash = Fingerprint()
        for image in imageFingerprints() { hash.add(image) }
        return hash
    }
}

extension BytePairEncoding {
    /// The fingerprint of the tokenizer: of its merges in order (two tokenizers with equal merges give every text
    /// the same ids). A text checkpoint records it, so that it is never read with another tokenizer.
    public var fingerprint: Fingerprint {
        var hash = Fingerprint()
        for (left, right) in merges {
            hash.add(UInt64(left))
            hash.add(UInt64(right))
        }
        return hash
    }
}
