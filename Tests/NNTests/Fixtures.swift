// Reading the PyTorch reference values in Fixtures/fixtures.json (made by Fixtures/make_fixtures.py).
import Autograd
import Foundation

/// One stored tensor: shape and row-major values.
struct StoredTensor: Decodable {
    let shape: [Int]
    let values: [Float]
    func tensor(requiresGradient: Bool = false) -> Tensor { Tensor(shape: shape, values, requiresGradient: requiresGradient) }
}

/// The cases, as loosely typed JSON objects; `tensor(_:)` and `number(_:)` read their fields.
struct FixtureCase {
    let fields: [String: Any]

    func tensor(_ key: String) -> Tensor { stored(fields[key]).tensor() }
    func leaf(_ key: String) -> Tensor { stored(fields[key]).tensor(requiresGradient: true) }
    func number(_ key: String) -> Float { Float(fields[key] as! Double) }
    func group(_ key: String) -> [String: Tensor] {
        (fields[key] as! [String: Any]).mapValues { stored($0).tensor() }
    }

    private func stored(_ value: Any?) -> StoredTensor {
        let object = value as! [String: Any]
        return StoredTensor(shape: object["shape"] as! [Int], values: (object["values"] as! [Double]).map(Float.init))
    }
}

enum Fixtures {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fixtures.json")

    static func load(_ name: String) throws -> FixtureCase {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let cases = root["cases"] as! [String: Any]
        return FixtureCase(fields: cases[name] as! [String: Any])
    }
}

/// Float32 tolerances for comparing against PyTorch: the same math in a different summation order
/// differs by a few units in the last place of the largest terms.
enum Tolerance {
    /// Forward values of order 1.
    static let forward: Float = 1e-5
    /// Gradients, which go through more operations.
    static let gradient: Float = 1e-4
}

/// max |a - b| / max(1, |b|) over the elements; infinity when the shapes differ.
func maxError(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape else { return .infinity }
    return zip(a.scalars, b.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}
