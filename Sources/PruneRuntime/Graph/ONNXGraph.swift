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
        let file = try MappedFile(url: url)
        let model: Onnx_ModelProto
        do {
            let bytes = file.bytes(0..<file.size)
            let data = bytes.baseAddress.map {
                Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: bytes.count, deallocator: .none)
            } ?? Data()
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw PruneError(.corruptFile, "'\(url.path)' is not an ONNX model (its protobuf does not decode)")
        }
        try self.init(model: model, modelURL: url)
    }

    /// Decodes a model message of the file `modelURL`, which locates external tensor data and is named in errors.
    package convenience init(model: Onnx_ModelProto, modelURL: URL? = nil) throws {
        try OpsetImportRule.check(model.opsetImport.map { ($0.domain, $0.version) }, path: modelURL?.path ?? "model")
        var opset = 0
        for entry in model.opsetImport where entry.domain.isEmpty || entry.domain == "ai.onnx" {
            opset = Int(entry.version)
        }
        try self.init(graph: model.graph, opset: opset, outerScope: [], modelURL: modelURL)
    }

    /// Decodes a graph with its initializers; `outerScope` names values of enclosing graphs that a subgraph reads
    /// (fed as extra inputs).
    convenience init(graph: Onnx_GraphProto, opset: Int, outerScope: [String], modelURL: URL?) throws {
        let initializers =
            try graph.initializer.map { proto in
                (proto.name, try RuntimeTensor(proto: proto, modelURL: modelURL))
            }
            + graph.sparseInitializer.map { proto in
                (proto.values.name, try RuntimeTensor(sparse: proto, modelURL: modelURL))
            }
        try self.init(
            graph: graph, opset: opset, initializers: initializers, outerScope: outerScope, modelURL: modelURL)
    }

    /// A graph whose initializer values are already decoded: `initializers` gives one tensor per entry of
    /// `graph.initializer` (whose own payloads are not read), in any order; `outerScope` as above.
    ///
    /// This is how a model held in memory (a pruned model's parameters) is run without serialising it again.
    ///
    /// Sparse initializers must be among `initializers` (densified by ``RuntimeTensor/init(sparse:modelURL:)``).
    ///
    /// - Throws: `PruneError` for a sparse initializer that was not decoded, a graph value that is not a tensor, or
    ///   a node the runtime cannot decode.
    package init(
        graph: Onnx_GraphProto, opset: Int, initializers list: [(String, RuntimeTensor)], outerScope: [String] = [],
        modelURL: URL?
    ) throws {
        opsetVersion = opset
        var initializers: [String: RuntimeTensor] = [:]
        for (name, tensor) in list { initializers[name] = tensor }
        if let sparse = graph.sparseInitializer.first(where: { initializers[$0.values.name] == nil }) {
            throw PruneError(.invalidInput, "sparse initializer '\(sparse.values.name)' was not decoded")
        }
        self.initializers = initializers
        self.initializerNames = graph.initializer.map(\.name) + graph.sparseInitializer.map(\.values.name)
        inputNames = graph.input.map(\.name).filter { initializers[$0] == nil } + outerScope
        outputNames = graph.output.map(\.name)
        inputDeclarations = graph.input.filter { initializers[$0.name] == nil }.map(ValueDeclaration.init(proto:))
            + outerScope.map { ValueDeclaration(name: $0, dtype: nil, elementTypeName: nil, dimensions: nil) }
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
        nodes = try graph.node.enumerated().map { try GraphNode(proto: $1, index: $0, modelURL: modelURL) }
    }

    /// The names a subgraph's nodes (and their own subgraphs) read that nothing inside it defines: the values of
    /// enclosing graphs it uses, in first-use order.
    static func outerScopeNames(of graph: Onnx_GraphProto) -> [String] {
        var defined = Set(graph.initializer.map(\.name)).union(graph.input.map(\.name))
        var result: [String] = []
        var seen = Set<String>()
        func use(_ name: String) {
            if !name.isEmpty, !defined.contains(name), seen.insert(name).inserted { result.append(name) }
        }
        for node in graph.node {
            node.input.forEach(use)
            for attribute in node.attribute {
                if attribute.type == .graph { outerScopeNames(of: attribute.g).forEach(use) }
                for g in attribute.graphs { outerScopeNames(of: g).forEach(use) }
            }
            defined.formUnion(node.output)
        }
        graph.output.map(\.name).forEach(use)
        return result
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
