import ONNXProto
import PruneCore
import PruneFormats

/// Gives the readers of a shared initializer their own copies where a removal would cut it differently for them.
///
/// Exporters de-duplicate equal initializers (the freshly initialised BatchNorm layers of a network, tied weights),
/// so one tensor can feed nodes of different dependency groups, or nodes outside any group. Cutting it in place
/// would hand every reader the cut meant for one. Instead each distinct cut gets a copy named after the tensor
/// (`NAME.pruned`, `NAME.pruned.1`, …) that only its readers read; the original stays for the readers that keep
/// every index and disappears when none is left.
enum SharedParameters {
    /// Rewrites `graph`, `model` and `plan` so that every parameter the plan cuts is read only by nodes that need
    /// exactly that cut.
    static func separate(
        _ plan: inout RemovalPlan, graph: inout Onnx_GraphProto, model: inout Model, index: GraphIndex
    ) throws {
        var nodesByLabel: [String: [Int]] = [:]
        for n in graph.node.indices { nodesByLabel[index.label(n), default: []].append(n) }
        let subgraphReads = outerScopeReads(of: graph)
        var taken = Set(model.parameterNames).union(graph.node.flatMap(\.output)).union(graph.input.map(\.name))
        for parameter in plan.readerCuts.keys.sorted() {
            guard let byReader = plan.readerCuts[parameter] else { continue }
            let readers = Set((index.consumers[parameter] ?? []).map(\.node))
            var cutByNode: [Int: [Int: Set<Int>]] = [:]
            for (label, cuts) in byReader {
                for n in nodesByLabel[label] ?? [] where readers.contains(n) {
                    cutByNode[n, default: [:]].merge(cuts) { $0.union($1) }
                }
            }
            let untouched = readers.subtracting(cutByNode.keys)
            let keepsOriginal = !untouched.isEmpty || subgraphReads.contains(parameter)
                || graph.output.contains { $0.name == parameter }
            let distinct = Dictionary(grouping: cutByNode.keys.sorted()) { cutByNode[$0] ?? [:] }
            guard keepsOriginal || distinct.count > 1 else { continue }
            let original = try model.parameter(named: parameter)
            guard let message = graph.initializer.first(where: { $0.name == parameter }) else { continue }
            for (cuts, nodes) in distinct.sorted(by: { $0.value[0] < $1.value[0] }) {
                var name = "\(parameter).pruned"
                var suffix = 1
                while taken.contains(name) {
                    name = "\(parameter).pruned.\(suffix)"
                    suffix += 1
                }
                taken.insert(name)
                var copy = original
                copy.name = name
                try model.addParameter(copy)
                var entry = message
                entry.name = name
                graph.initializer.append(entry)
                if let declared = graph.input.first(where: { $0.name == parameter }) {
                    var input = declared
                    input.name = name
                    graph.input.append(input)
                }
                for n in nodes {
                    for position in graph.node[n].input.indices where graph.node[n].input[position] == parameter {
                        graph.node[n].input[position] = name
                    }
                }
                plan.reassign(parameter, to: name, cuts: cuts)
            }
            if !keepsOriginal {
                graph.initializer.removeAll { $0.name == parameter }
                graph.input.removeAll { $0.name == parameter }
                model.removeParameter(named: parameter)
            }
        }
    }

    /// Names read by the subgraphs (If, Loop, Scan bodies) of `graph`'s nodes.
    private static func outerScopeReads(of graph: Onnx_GraphProto) -> Set<String> {
        var reads = Set<String>()
        func visit(_ graph: Onnx_GraphProto) {
            for body in graph.node.flatMap(\.subgraphs) {
                for inner in body.node { reads.formUnion(inner.input) }
                reads.formUnion(body.output.map(\.name))
                visit(body)
            }
        }
        visit(graph)
        return reads
    }
}
