import ONNXProto
import PruneCore
import PruneFormats

/// Who produces and who reads each value of an ONNX graph, with static shapes and the model's initializers.
///
/// Built from the graph the model carries and the model's parameters (whose shapes are current, unlike the dims
/// recorded in the graph's initializer messages after a rewrite).
struct GraphIndex {
    /// A use of a value: the node index and the input position.
    struct Use: Hashable {
        var node: Int
        var position: Int
    }

    let graph: Onnx_GraphProto
    let model: Model
    /// The default-domain opset (0 when unknown).
    let opset: Int
    /// The node producing each value.
    private(set) var producer: [String: Int] = [:]
    /// The nodes reading each value.
    private(set) var consumers: [String: [Use]] = [:]
    /// Values that are graph outputs.
    let graphOutputs: Set<String>
    /// Graph inputs that are not initializers.
    let graphInputs: Set<String>
    /// Static shapes (batch dimension taken as 1), where known.
    let shapes: [String: [Int?]]
    /// Small integer constants known at load time (shape arguments).
    let constants: [String: [Int64]]
    /// For integer lists built from `Shape`: the value and axis whose extent each entry holds.
    let dimensionSources: [String: [DimensionSource?]]
    /// Values whose extents provably equal earlier ones' (`ONNXShapeInference.axisRoots`).
    let axisRoots: DimensionRoots

    /// For a subgraph analysed on its own (an If branch): where it sits and what it may not cut.
    struct Scope: Sendable {
        /// Names the subgraph for labels of unnamed nodes ("If_0/then_branch").
        var label: String
        /// How many nodes read each name, across the main graph and every subgraph: a weight inside a subgraph is
        /// cut only when its one reader is there (shared weights are given private copies in the main graph only).
        var readerCounts: [String: Int]
    }

    /// The subgraph this index describes, or nil for the main graph.
    let scope: Scope?

    init(graph: ONNXModelGraph, model: Model) {
        self.init(proto: graph.proto, opset: (model.graph as? ONNXModelGraph)?.opset ?? 0, model: model, scope: nil)
    }

    /// Indexes `graph` (the main graph, or a subgraph made standalone with its outer-scope reads as inputs).
    ///
    /// A node whose subgraphs read a value from this graph counts as a reader of it (at position −1), so that a
    /// group never cuts a value a branch or loop body reads unseen.
    init(proto graph: Onnx_GraphProto, opset: Int, model: Model, scope: Scope?) {
        self.graph = graph
        self.model = model
        self.opset = opset
        self.scope = scope
        for (index, node) in graph.node.enumerated() {
            for output in node.output where !output.isEmpty { producer[output] = index }
            for (position, input) in node.input.enumerated() where !input.isEmpty {
                consumers[input, default: []].append(Use(node: index, position: position))
            }
            var outerReads = Set(node.input)
            for name in node.subgraphs.flatMap(\.outerScopeReads) where outerReads.insert(name).inserted {
                consumers[name, default: []].append(Use(node: index, position: -1))
            }
        }
        graphOutputs = Set(graph.output.map(\.name))
        graphInputs = Set(graph.input.map(\.name)).subtracting(graph.initializer.map(\.name)).subtracting(
            model.parameterNames)
        let inference = GraphIndex.shapeInference(graph, model: model)
        shapes = inference.shapes
        self.constants = inference.values
        dimensionSources = inference.dimensionSources
        axisRoots = inference.axisRoots
    }

    /// Static shape inference over `graph` with `model`'s current parameters.
    static func shapeInference(_ graph: Onnx_GraphProto, model: Model) -> ONNXShapeInference {
        ONNXShapeInference(graph: graph, model: model)
    }

    /// Whether `name` is an initializer exposed as a parameter.
    func isParameter(_ name: String) -> Bool { model[name] != nil }

    /// The shape of a parameter.
    func parameterShape(_ name: String) -> [Int]? { model[name]?.tensor.shape }

    /// A node's label for messages: its name, or its op and position.
    func label(_ index: Int) -> String {
        let node = graph.node[index]
        guard node.name.isEmpty else { return node.name }
        return scope.map { "\($0.label)/\(node.opType) #\(index)" } ?? "\(node.opType) #\(index)"
    }

    /// The static shape of `value`, when every dimension is known.
    func staticShape(_ value: String) -> [Int]? {
        guard let shape = shapes[value] else { return nil }
        let known = shape.compactMap { $0 }
        return known.count == shape.count ? known : nil
    }

    /// The integer list held by `name` (an INT64 initializer or a value folded at load time).
    func int64s(_ name: String) -> [Int64]? { constants[name] }

    /// The values of a small float32 parameter (at most 64 elements), such as Resize scales.
    func floats(_ name: String) -> [Float]? {
        guard let tensor = model[name]?.tensor, tensor.dtype == .f32, tensor.elementCount <= 64 else { return nil }
        return tensor.floatValues()
    }

    /// The rank of `value`, when known.
    func rank(_ value: String) -> Int? { shapes[value]?.count ?? parameterShape(value)?.count }
}

extension Onnx_NodeProto {
    /// The integer attribute `name`, or `fallback`.
    func int(_ name: String, _ fallback: Int) -> Int {
        attribute.first { $0.name == name }.map { Int($0.i) } ?? fallback
    }

    /// The integer-list attribute `name`, if present.
    func ints(_ name: String) -> [Int]? {
        attribute.first { $0.name == name }.map { $0.ints.map { Int($0) } }
    }

    /// Whether the node belongs to the default ONNX domain.
    var isDefaultDomain: Bool { domain.isEmpty || domain == "ai.onnx" }
}
