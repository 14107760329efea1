import Foundation
import ONNXProto
import PruneCore

/// One attribute value of a node, decoded from `AttributeProto`.
enum AttributeValue: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(RuntimeTensor)
    /// A subgraph (If branches, Loop bodies), kept undecoded with the folder its external data is read from.
    case graph(Subgraph)
    /// Kinds the runtime does not use (sparse tensors, type protos, graph lists).
    case other(String)
}

/// A subgraph attribute as stored in the file; control-flow kernels decode it when the interpreter is built.
struct Subgraph: @unchecked Sendable {
    let proto: Onnx_GraphProto
    /// The model file, which locates the subgraph's external tensor data.
    let modelURL: URL?
}

/// A node of the graph in the runtime's own form: names, op type and decoded attributes.
struct GraphNode: Sendable {
    let index: Int
    let name: String
    let opType: String
    let domain: String
    /// Input value names in order; an empty name is an omitted optional input.
    let inputs: [String]
    let outputs: [String]
    let attributes: [String: AttributeValue]

    /// How errors refer to this node: `node 'name' (op Type)`.
    var label: String { "node '\(name.isEmpty ? "#\(index)" : name)' (op \(opType))" }

    /// An error naming this node.
    func error(_ kind: PruneError.Kind, _ message: String) -> PruneError {
        PruneError(kind, "\(label): \(message)")
    }

    init(proto: Onnx_NodeProto, index: Int, modelURL: URL?) throws {
        self.index = index
        name = proto.name
        opType = proto.opType
        domain = proto.domain
        inputs = proto.input
        outputs = proto.output
        var attributes: [String: AttributeValue] = [:]
        for attribute in proto.attribute {
            let value: AttributeValue
            switch attribute.type {
            case .int: value = .int(Int(attribute.i))
            case .float: value = .float(attribute.f)
            case .string: value = .string(String(decoding: attribute.s, as: UTF8.self))
            case .ints: value = .ints(attribute.ints.map { Int($0) })
            case .floats: value = .floats(attribute.floats)
            case .tensor:
                do {
                    value = .tensor(try RuntimeTensor(proto: attribute.t, modelURL: modelURL))
                } catch let error as PruneError {
                    value = .other("tensor attribute: \(error.message)")
                }
            case .strings: value = .strings(attribute.strings.map { String(decoding: $0, as: UTF8.self) })
            case .graph: value = .graph(Subgraph(proto: attribute.g, modelURL: modelURL))
            default: value = .other("\(attribute.type)")
            }
            attributes[attribute.name] = value
        }
        self.attributes = attributes
    }

    // MARK: Attribute access (throws errors naming the node and attribute)

    func int(_ key: String, default fallback: Int) throws -> Int {
        guard let value = attributes[key] else { return fallback }
        guard case .int(let v) = value else { throw error(.invalidInput, "attribute '\(key)' is not an int") }
        return v
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard attributes[key] != nil else { return nil }
        return try int(key, default: 0)
    }

    func float(_ key: String, default fallback: Float) throws -> Float {
        guard let value = attributes[key] else { return fallback }
        switch value {
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: throw error(.invalidInput, "attribute '\(key)' is not a float")
        }
    }

    func optionalFloat(_ key: String) throws -> Float? {
        guard attributes[key] != nil else { return nil }
        return try float(key, default: 0)
    }

    func string(_ key: String, default fallback: String) throws -> String {
        guard let value = attributes[key] else { return fallback }
        guard case .string(let v) = value else { throw error(.invalidInput, "attribute '\(key)' is not a string") }
        return v
    }

    func ints(_ key: String) throws -> [Int]? {
        guard let value = attributes[key] else { return nil }
        switch value {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: throw error(.invalidInput, "attribute '\(key)' is not a list of ints")
        }
    }

    func floats(_ key: String) throws -> [Float]? {
        guard let value = attributes[key] else { return nil }
        switch value {
        case .floats(let v): return v
        case .float(let v): return [v]
        default: throw error(.invalidInput, "attribute '\(key)' is not a list of floats")
        }
    }

    /// Rejects attributes this kernel does not implement when they are set to anything but their neutral value.
    func rejectAttribute(_ key: String, unless neutral: Int) throws {
        if let v = try optionalInt(key), v != neutral {
            throw error(.unsupported, "attribute \(key)=\(v) is not supported")
        }
    }

    /// The subgraph attribute `key`, or an error naming the node when it is missing or not a graph.
    func subgraph(_ key: String) throws -> Subgraph {
        guard case .graph(let g)? = attributes[key] else { throw error(.invalidInput, "attribute '\(key)' is not a graph") }
        return g
    }

    /// Whether input `i` is present (not omitted).
    func hasInput(_ i: Int) -> Bool { i < inputs.count && !inputs[i].isEmpty }
}
