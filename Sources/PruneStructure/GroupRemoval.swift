import ONNXProto
import PruneCore
import PruneFormats

/// Removes selected units of one model's dependency groups, reusing one structure analysis for every removal.
///
/// The `remove` rewriter makes one per rewrite; a sensitivity sweep makes one per model and removes a different
/// group at each point, so the graph is indexed and its shapes inferred once, not once per point.
package struct GroupRemoval: Sendable {
    /// The model every removal starts from.
    package let model: Model
    /// Its dependency groups.
    package let analysis: StructureAnalysis

    /// Analyses `model` once.
    ///
    /// - Parameters:
    ///   - patterns: regular expressions of node, parameter or value names whose groups are excluded.
    ///   - includingHiddenWidth: whether a transformer's hidden width can be removed (the `remove` rewriter cuts
    ///     whatever group its targets name, so it includes it; the targets decide).
    ///   - headDimensions: whether attention blocks are analysed by head dimension (the Q/K and V/O groups).
    /// - Throws: `PruneError` when the model has no ONNX graph or a pattern does not compile.
    package init(
        model: Model, ignoring patterns: [String] = [], includingHiddenWidth: Bool = false,
        headDimensions: Bool = false
    ) throws {
        self.model = model
        analysis = try StructureAnalysis(
            model: model, ignoring: patterns, includingHiddenWidth: includingHiddenWidth,
            headDimensions: headDimensions)
    }

    /// The model with the units each entry of `selection` marks removed from its group, verified
    /// (``RewriteVerification``) before it is returned.
    ///
    /// - Throws: `PruneError.Kind.unsupported` when a target is not a prunable group of the model, a Reshape's
    ///   shape cannot be rewritten, or the result fails verification; `.invalidInput` when a selection would
    ///   remove every unit of a group.
    package func removing(_ selection: Selection, rewriter: String = "remove") throws -> Model {
        var plan = RemovalPlan()
        for entry in selection.entries {
            guard case .prune(let mask) = entry.decision, mask.setCount > 0 else { continue }
            guard let group = analysis.group(named: entry.target.name), group.isPrunable,
                group.target == entry.target
            else {
                throw PruneError(
                    .unsupported,
                    "'\(rewriter)' cuts structural groups; '\(entry.target.name)' is not a prunable group of this model "
                        + "(it needs unit granularity on an ONNX model)", hint: .unitGranularity)
            }
            guard mask.setCount < group.unitCount else {
                throw PruneError(
                    .invalidInput,
                    "'\(rewriter)' would delete all \(group.unitCount) units of group '\(group.name)'; keep at least one")
            }
            plan.remove(mask, of: group)
        }
        guard let original = model.graph as? ONNXModelGraph else { return model }
        var graph = original.proto
        var result = model
        let index = analysis.index
        try SharedParameters.separate(&plan, graph: &graph, model: &result, index: index)
        var axesByParameter: [String: [(Int, Set<Int>)]] = [:]
        for (place, indices) in plan.parameters {
            axesByParameter[place.name, default: []].append((place.axis, indices))
        }
        for (name, cuts) in axesByParameter {
            var tensor = try result.parameter(named: name).tensor
            for (axis, indices) in cuts { tensor = tensor.removing(indices, along: axis) }
            try result.setTensor(tensor, for: name)
        }
        // Groups inside If branches: each branch's own edits (Slice bounds, Reshape shapes, declared shapes) are
        // applied inside it with the branch's index. Edits may insert nodes, which moves the nodes after them, so
        // the innermost branches go first and the main graph last: every path is used while it still holds.
        for scope in analysis.scopes.reversed() {
            var body = scope.path.subgraph(in: graph)
            try GraphEdits.apply(plan, to: &body, model: &result, index: scope.index)
            scope.path.replace(in: &graph, with: body)
        }
        try GraphEdits.apply(plan, to: &graph, model: &result, index: index)
        GraphEdits.declareInitializerInputs(&graph, model: result)
        result.graph = ONNXModelGraph(proto: graph, opset: original.opset)
        try RewriteVerification.verify(result, original: model, rewriter: rewriter)
        return result
    }
}
