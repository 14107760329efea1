import ONNXOperators
import ONNXProto
import PruneCore
import PruneFormats

/// An `If` branch analysed as a graph of its own.
///
/// The branch is made standalone: the values it reads from the enclosing scope become its inputs (declared with the
/// shapes the enclosing analysis inferred), the main graph's initializers it reads become its initializers, and its
/// outputs stay its outputs. A group found in it therefore stops at both boundaries, which keep their widths, and
/// its cuts are applied inside the branch alone.
struct SubgraphScope: Sendable {
    /// Where the branch sits in the main graph.
    let path: ONNXSubgraphPath
    /// The outer-scope values the branch reads, declared as inputs of its standalone graph.
    let inputs: [Onnx_ValueInfoProto]
    /// The branch's standalone graph, indexed.
    let index: GraphIndex
    /// The names of the groups found in the branch.
    let groupNames: Set<String>

    /// The standalone graph of this branch as it stands in `main` (after a rewrite, with its edits).
    func standalone(in main: Onnx_GraphProto) -> Onnx_GraphProto {
        SubgraphAnalysis.standalone(path.subgraph(in: main), inputs: inputs, main: main)
    }
}

/// Finds the groups inside subgraphs: every `If` branch, recursively, as a ``SubgraphScope``; the layers of `Loop`
/// and `Scan` bodies (which run once per iteration with carried state) as excluded groups naming the loop.
enum SubgraphAnalysis {
    /// The scopes and groups below the main graph `main`.
    static func analyse(
        main: GraphIndex, model: Model, opset: Int
    ) -> (scopes: [SubgraphScope], groups: [DependencyGroup]) {
        let mainGraph = main.graph
        guard mainGraph.node.contains(where: { !$0.subgraphs.isEmpty }) else { return ([], []) }
        var readerCounts: [String: Int] = [:]
        for node in ONNXWeightLayouts.allNodes(of: mainGraph) {
            for name in Set(node.input) where !name.isEmpty { readerCounts[name, default: 0] += 1 }
        }
        var scopes: [SubgraphScope] = []
        var groups: [DependencyGroup] = []
        func visit(_ enclosing: GraphIndex, path: [ONNXSubgraphPath.Step]) {
            for (n, node) in enclosing.graph.node.enumerated() {
                for (a, attribute) in node.attribute.enumerated() where attribute.hasG || !attribute.graphs.isEmpty {
                    let owner = enclosing.label(n)
                    guard node.opType == "If", node.isDefaultDomain, attribute.hasG else {
                        let bodies = attribute.hasG ? [attribute.g] : attribute.graphs
                        for body in bodies {
                            groups += refusedLayers(
                                in: body, reason: "it runs inside the body of node '\(owner)' (\(node.opType)), "
                                    + "once per iteration with carried state; groups in \(node.opType) bodies are "
                                    + "not analysed",
                                label: "\(owner)/\(attribute.name)", model: model)
                        }
                        continue
                    }
                    let step = ONNXSubgraphPath.Step(node: n, attribute: a)
                    let inputs = declarations(of: attribute.g, enclosing: enclosing, main: mainGraph, model: model)
                    let graph = standalone(attribute.g, inputs: inputs, main: mainGraph)
                    let index = GraphIndex(
                        proto: graph, opset: opset, model: model,
                        scope: .init(label: "\(owner)/\(attribute.name)", readerCounts: readerCounts))
                    let found = StructureAnalysis.groups(in: index)
                    groups += found
                    scopes.append(
                        SubgraphScope(
                            path: ONNXSubgraphPath(path + [step]), inputs: inputs, index: index,
                            groupNames: Set(found.map(\.name))))
                    visit(index, path: path + [step])
                }
            }
        }
        visit(main, path: [])
        return (scopes, groups)
    }

    /// `body` as a graph of its own: its outer-scope reads as `inputs`, the main graph's initializers it reads as
    /// its initializers.
    static func standalone(
        _ body: Onnx_GraphProto, inputs: [Onnx_ValueInfoProto], main: Onnx_GraphProto
    ) -> Onnx_GraphProto {
        var graph = body
        let reads = Set(body.outerScopeReads)
        let own = Set(body.initializer.map(\.name))
        graph.input = inputs
        graph.initializer =
            body.initializer + main.initializer.filter { reads.contains($0.name) && !own.contains($0.name) }
        return graph
    }

    /// Declarations of the outer-scope values `body` reads (initializers aside): as the main graph declares them,
    /// else with the element type the enclosing graph declares (FLOAT when it declares none) and the shape its
    /// analysis inferred.
    private static func declarations(
        of body: Onnx_GraphProto, enclosing: GraphIndex, main: Onnx_GraphProto, model: Model
    ) -> [Onnx_ValueInfoProto] {
        let initializers = Set(main.initializer.map(\.name))
        let declared = Dictionary(
            (enclosing.graph.input + enclosing.graph.valueInfo + enclosing.graph.output + main.input + main.valueInfo
                + main.output).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        return body.outerScopeReads.compactMap { name -> Onnx_ValueInfoProto? in
            guard !initializers.contains(name), model[name] == nil else { return nil }
            var info = declared[name] ?? Onnx_ValueInfoProto()
            info.name = name
            if declared[name] == nil { info.type.tensorType.elemType = 1 }
            if let shape = enclosing.shapes[name] {
                info.type.tensorType.shape.dim = shape.enumerated().map { axis, extent in
                    var dim = Onnx_TensorShapeProto.Dimension()
                    if let extent { dim.dimValue = Int64(extent) } else { dim.dimParam = "\(name)_\(axis)" }
                    return dim
                }
            }
            return info
        }
    }

    /// An excluded group for each layer of `body` (at any depth) whose weight is a parameter.
    private static func refusedLayers(
        in body: Onnx_GraphProto, reason: String, label: String, model: Model
    ) -> [DependencyGroup] {
        var groups: [DependencyGroup] = []
        for (n, node) in body.node.enumerated() {
            let name = node.name.isEmpty ? "\(label)/\(node.opType) #\(n)" : node.name
            if ONNXOperators.layers.contains(node.opType), node.input.count > 1,
                let weight = model[node.input[1]]?.tensor.shape, let units = weight.first
            {
                groups.append(
                    DependencyGroup(
                        name: name, unitCount: units, members: [], activations: [], nodes: [name],
                        exclusion: "node '\(name)' (\(node.opType)): \(reason)"))
            }
            for body in node.subgraphs { groups += refusedLayers(in: body, reason: reason, label: name, model: model) }
        }
        return groups
    }
}
