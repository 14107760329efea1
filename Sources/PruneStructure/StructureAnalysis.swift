import ONNXProto
import PruneCore
import PruneFormats

/// The dependency groups of a model: which channels and neurons can be removed, and what each one drags along.
///
/// Every Conv, Gemm and MatMul whose weight is an initializer starts a group at its output channels, unless an
/// earlier group already reached them (a residual `Add` joins both producers into one group). The group then grows
/// through the operators the analysis understands (see `Docs/Structure.md`). A group is kept but marked
/// excluded when its channels reach a graph output or input, an operator without a rule, or a name the caller
/// protects; excluded groups are never pruned and their reason names the node and op.
public struct StructureAnalysis: Sendable {
    /// Every group found, prunable or not, in the order of their first producer.
    public let groups: [DependencyGroup]

    /// Analyses `model`'s graph.
    ///
    /// - Parameter ignoring: regular expressions; a group touching a node, parameter or value whose name matches
    ///   one is excluded.
    /// - Throws: `PruneError.Kind.unsupported` when the model carries no ONNX graph; `.invalidInput` for a bad
    ///   pattern.
    public init(model: Model, ignoring patterns: [String] = []) throws {
        guard let graph = model.graph as? ONNXModelGraph else {
            let source = model.sourceURL?.path ?? "the model"
            throw PruneError(
                .unsupported, "\(source) has no graph; structured pruning needs an ONNX model to find coupled channels")
        }
        let regexes = try patterns.map { pattern in
            do { return try Regex(pattern) } catch {
                throw PruneError(.invalidInput, "invalid --ignore pattern '\(pattern)': \(error)")
            }
        }
        let index = GraphIndex(graph: graph.proto, model: model)
        var claimed = Set<String>()
        var groups: [DependencyGroup] = []
        for (n, node) in graph.proto.node.enumerated() {
            guard let (output, axis, count) = StructureAnalysis.root(n, node, index), !claimed.contains(output) else {
                continue
            }
            var builder = GroupBuilder(index: index, count: count)
            builder.add(output, axis: axis)
            builder.run()
            let order = builder.nodes.sorted()
            var group = DependencyGroup(
                name: index.label(n), unitCount: count, members: builder.members,
                activations: builder.valueOrder.compactMap { value in
                    builder.layouts[value].map {
                        DependencyGroup.Activation(value: value, axis: $0.axis, offset: $0.offset, width: $0.width)
                    }
                }, nodes: order.map(index.label), exclusion: builder.exclusion)
            claimed.formUnion(builder.layouts.keys)
            claimed.insert(output)
            if group.exclusion == nil {
                let names = group.nodes + group.members.map(\.slice.parameter) + group.activations.map(\.value)
                for (pattern, regex) in zip(patterns, regexes) {
                    if let hit = names.first(where: { $0.contains(regex) }) {
                        group.exclusion = "ignored: '\(hit)' matches '\(pattern)'"
                        break
                    }
                }
            }
            groups.append(group)
        }
        self.groups = groups
    }

    /// The group called `name`.
    public func group(named name: String) -> DependencyGroup? { groups.first { $0.name == name } }

    /// The output value, its channel axis and channel count when node `n` produces channels from a weight.
    private static func root(_ n: Int, _ node: Onnx_NodeProto, _ index: GraphIndex) -> (String, Int, Int)? {
        guard node.isDefaultDomain, node.input.count >= 2, let output = node.output.first,
            let weight = index.parameterShape(node.input[1]),
            index.model[node.input[1]]?.tensor.dtype.isFloatingPoint == true
        else { return nil }
        switch node.opType {
        case "Conv" where weight.count >= 3:
            return (output, 1, weight[0])
        case "Gemm" where weight.count == 2:
            return (output, 1, node.int("transB", 0) != 0 ? weight[0] : weight[1])
        case "MatMul" where weight.count == 2:
            let rank = index.rank(output) ?? index.rank(node.input[0]) ?? 2
            return (output, rank - 1, weight[1])
        default:
            return nil
        }
    }
}
