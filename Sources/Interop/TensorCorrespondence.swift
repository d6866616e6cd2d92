// How one model's parameters become another's: a list of correspondences between the Swift model's tensor names
// and Hugging Face's, written once per modality (TextModel+HuggingFace.swift, AudioModel+HuggingFace.swift) and
// read in both directions, export and import. Three things differ besides the names:
//
//   - the Swift attention keeps query, key and value in one Linear(D, 3D) (`qkv`: rows 0..<D are the query's,
//     then the key's, then the value's); Hugging Face keeps three Linear(D, D): one Swift tensor, three of theirs;
//   - a tensor may be laid out with other axes of the same values (a patch embedding as a Linear [D, p p] here and
//     a Conv2d [D, 1, p, p] there): the same numbers in the same order, another shape;
//   - Hugging Face holds tensors the Swift model does not have (RoBERTa's token-type embedding): the exporter
//     writes the values that make them do nothing, and the importer folds them in or refuses them.
import Autograd
import NN

/// One Swift tensor and the Hugging Face tensors that hold its values.
public struct TensorCorrespondence: Sendable, Equatable {
    /// The Swift parameter's name (`Module.namedParameters`).
    public var swift: String
    /// One Hugging Face name, or several whose tensors are the Swift tensor's rows in equal parts, in order.
    public var huggingFace: [String]
    /// The shape of each Hugging Face tensor, when it is not the Swift tensor's (or its equal part's) shape.
    public var huggingFaceShape: [Int]?

    /// A correspondence; `huggingFaceShape` nil keeps the Swift shape (split along the rows for several names).
    public init(_ swift: String, _ huggingFace: [String], shape huggingFaceShape: [Int]? = nil) {
        self.swift = swift
        self.huggingFace = huggingFace
        self.huggingFaceShape = huggingFaceShape
    }

    /// A one-to-one correspondence.
    public init(_ swift: String, _ huggingFace: String, shape huggingFaceShape: [Int]? = nil) {
        self.init(swift, [huggingFace], shape: huggingFaceShape)
    }
}

/// What went wrong between the two layouts, named so that the reader can fix it.
public struct InteropError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// An error with its message.
    public init(_ description: String) { self.description = description }
}

extension Array where Element == TensorCorrespondence {
    /// The Hugging Face tensors holding `parameters` (the Swift model's `namedParameters`), by name. Every Swift
    /// parameter must have a correspondence (an unmapped one would be lost silently).
    public func huggingFaceTensors(from parameters: [(name: String, tensor: Tensor)]) throws(InteropError) -> [(name: String, tensor: Tensor)] {
        let byName = Dictionary(parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        let mapped = Set(map(\.swift))
        if let lost = parameters.first(where: { !mapped.contains($0.name) }) {
            throw InteropError("the Swift parameter \(lost.name) has no Hugging Face counterpart in the name map: the export would lose it")
        }
        var result: [(name: String, tensor: Tensor)] = []
        for rule in self {
            guard let tensor = byName[rule.swift] else { throw InteropError("the Swift model has no parameter \(rule.swift), which the name map expects") }
            let parts = rule.huggingFace.count
            guard tensor.shape[0] % parts == 0 else {
                throw InteropError("\(rule.swift) \(tensor.shape) cannot be split into \(parts) equal parts along its rows")
            }
            let rows = tensor.shape[0] / parts
            for (part, name) in rule.huggingFace.enumerated() {
                var piece = parts == 1 ? tensor : tensor.sliced((part * rows)..<((part + 1) * rows), along: 0)
                if let shape = rule.huggingFaceShape { piece = piece.reshaped(shape) }
                result.append((name, Tensor(shape: piece.shape, piece.scalars)))
            }
        }
        return result
    }

    /// The Swift parameters, by Swift name, made from Hugging Face `tensors`: each checked against the shape the
    /// Swift model expects (`expected`, its `namedParameters`).
    public func swiftTensors(from tensors: [String: Tensor], expected: [(name: String, tensor: Tensor)]) throws(InteropError) -> [String: Tensor] {
        let shapes = Dictionary(expected.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { first, _ in first })
        var result: [String: Tensor] = [:]
        for rule in self {
            guard let shape = shapes[rule.swift] else { throw InteropError("the Swift model has no parameter \(rule.swift), which the name map expects") }
            let parts = rule.huggingFace.count
            var rows = shape
            rows[0] /= parts
            var pieces: [Tensor] = []
            for name in rule.huggingFace {
                guard let tensor = tensors[name] else {
                    throw InteropError("model.safetensors has no tensor \(name) (Hugging Face's name for the Swift \(rule.swift)): is it a checkpoint of this model class?")
                }
                let wanted = rule.huggingFaceShape ?? rows
                guard tensor.shape == wanted else {
                    throw InteropError("\(name) has shape \(tensor.shape), the Swift model needs \(wanted) (for \(rule.swift)): config.json and model.safetensors disagree")
                }
                pieces.append(tensor.reshaped(rows))
            }
            result[rule.swift] = parts == 1 ? pieces[0] : Tensor.concatenate(pieces, along: 0)
        }
        return result
    }
}

/// Copies `values` (by Swift name) into `module`'s parameters; every parameter must be given.
public func load(_ values: [String: Tensor], into module: any Module) throws(InteropError) {
    for (name, parameter) in module.namedParameters {
        guard let value = values[name] else { throw InteropError("no value for the Swift parameter \(name)") }
        guard value.shape == parameter.shape else { throw InteropError("\(name): shape \(value.shape), the Swift model has \(parameter.shape)") }
        let scalars = value.scalars
        for (i, v) in scalars.enumerated() where !v.isFinite {
            throw InteropError("\(name) holds \(v) at element \(i): a model with non-finite weights cannot be imported")
        }
        parameter.storage.pointer.update(from: scalars, count: scalars.count)
    }
}

/// Hugging Face's names, inside one Transformer block, for the parts of a Swift `TransformerBlock`.
public struct BlockNames: Sendable {
    /// The three projections that the Swift `attention.qkv` holds as its rows, in order.
    public var query: String, key: String, value: String
    /// The attention's output projection, the attention's LayerNorm, the two FFN layers, the FFN's LayerNorm.
    public var output: String, attentionNorm: String, fc1: String, fc2: String, feedForwardNorm: String

    /// The correspondences of block `index`, whose Hugging Face names start with `prefix` ("encoder.layer.3.").
    public func correspondences(block index: Int, prefix: String) -> [TensorCorrespondence] {
        let swift = "encoder.blocks.\(index)."
        var result: [TensorCorrespondence] = []
        for p in ["weight", "bias"] {
            let qkv: [String] = [query, key, value].map { prefix + $0 + "." + p }
            result.append(TensorCorrespondence(swift + "attention.qkv." + p, qkv))
            let pairs: [(String, String)] = [("attention.output", output), ("attentionNorm", attentionNorm), ("fc1", fc1), ("fc2", fc2),
                                             ("feedForwardNorm", feedForwardNorm)]
            for (ours, theirs) in pairs { result.append(TensorCorrespondence(swift + ours + "." + p, prefix + theirs + "." + p)) }
        }
        return result
    }
}
