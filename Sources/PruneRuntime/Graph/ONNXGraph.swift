import Foundation
import ONNXProto
import PruneCore
import SwiftProtobuf

/// An ONNX model's main graph, decoded once for the interpreter: nodes, initializers, inputs and outputs.
///
/// Reading the file is the only expensive step; an ``Interpreter`` built from the graph can have its
/// initializers replaced (a pruned model's weights) without decoding again.
public final class ONNXGraph: Sendable {
    /// Names of the inputs a caller must feed (graph inputs that no initializer provides), in graph order.
    public let inputNames: [String]
    /// Names of the graph outputs, in graph order.
    public let outputNames: [String]
    /// What the file declares about each input in ``inputNames`` (element type and shape), in the same order.
    public let inputDeclarations: [ValueDeclaration]
    /// The version of the default ONNX operator set the model imports.
    public let opsetVersion: Int
    /// Initializer names in file order.
    public let initializerNames: [String]
    let nodes: [GraphNode]
    let initializers: [String: RuntimeTensor]
    /// Declared input element types by name (ONNX data type codes), for checking fed values.
    let declaredInputTypes: [String: Int32]

    /// Reads and decodes the ONNX model at `url`; external tensor data is read relative to its folder.
    ///
    /// - Throws: `PruneError` when the file cannot be read or decoded, or an initializer has a dtype the runtime
    ///   does not hold.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw PruneError(.fileUnreadable, "cannot read '\(url.path)': \(error.localizedDescription)")
        }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw PruneError(.corruptFile, "'\(url.path)' is not an ONNX model (its protobuf does not decode)")
        }
        try self.init(model: model, baseDirectory: url.deletingLastPathComponent())
    }

    /// Decodes a model message; `baseDirectory` locates external tensor data.
    package init(model: Onnx_ModelProto, baseDirectory: URL? = nil) throws {
        let graph = model.graph
        var opset = 0
        for entry in model.opsetImport where entry.domain.isEmpty || entry.domain == "ai.onnx" {
            opset = Int(entry.version)
        }
        opsetVersion = opset
        var initializers: [String: RuntimeTensor] = [:]
        var initializerNames: [String] = []
        for proto in graph.initializer {
            initializers[proto.name] = try RuntimeTensor(proto: proto, baseDirectory: baseDirectory)
            initializerNames.append(proto.name)
        }
        if let sparse = graph.sparseInitializer.first {
            throw PruneError(.unsupported, "sparse initializer '\(sparse.values.name)' is not supported")
        }
        self.initializers = initializers
        self.initializerNames = initializerNames
        inputNames = graph.input.map(\.name).filter { initializers[$0] == nil }
        outputNames = graph.output.map(\.name)
        inputDeclarations = graph.input.filter { initializers[$0.name] == nil }.map(ValueDeclaration.init(proto:))
        for value in graph.input + graph.output {
            switch value.type.value {
            case .tensorType?, nil: break
            case let other?:
                let kind = String(describing: other).prefix { $0 != "(" }
                throw PruneError(.unsupported, "graph value '\(value.name)' has type \(kind), not tensorType; only tensors are supported")
            }
        }
        var declared: [String: Int32] = [:]
        for input in graph.input where input.type.tensorType.elemType != 0 {
            declared[input.name] = input.type.tensorType.elemType
        }
        declaredInputTypes = declared
        nodes = try graph.node.enumerated().map { try GraphNode(proto: $1, index: $0, baseDirectory: baseDirectory) }
    }

    /// The distinct operator types of the model at `url`, sorted, without checking anything else.
    package static func operatorTypes(contentsOf url: URL) throws -> [String] {
        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        return Array(Set(model.graph.node.map(\.opType))).sorted()
    }

    /// The distinct operator types the graph uses, sorted.
    public var operatorTypes: [String] { Array(Set(nodes.map(\.opType))).sorted() }

    /// The number of nodes.
    public var nodeCount: Int { nodes.count }

    /// The value of initializer `name` as stored in the file, if there is one.
    public func initializer(named name: String) -> RuntimeTensor? { initializers[name] }
}
