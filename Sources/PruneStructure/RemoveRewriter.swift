import ONNXProto
import PruneCore
import PruneFormats

/// Physically removes the selected units of dependency groups: every coupled initializer is cut, depthwise
/// `group` attributes, flattening `Reshape` shapes and declared `value_info` shapes follow, and the model's graph
/// is replaced by the edited one, so the written ONNX file is smaller and does less work.
///
/// Works on the group targets ``GroupTargets`` produces (`--granularity unit` on an ONNX model). It re-derives
/// every group from the model's graph, so biases, normalisation statistics and per-channel constants are cut
/// with the weights the scorer saw. Removing units whose weights are all zero leaves the outputs unchanged.
public struct RemoveRewriter: Rewriter {
    /// Creates the rewriter.
    public init() {}

    /// The model with the selected units of each group removed.
    ///
    /// The result is verified before it is returned (``RewriteVerification``): a rewrite that broke the graph, or
    /// that cannot be checked, is an error naming the node, never a model.
    ///
    /// - Throws: `PruneError.Kind.unsupported` when the model has no ONNX graph, when a target is not a
    ///   structural group of it, a Reshape's shape cannot be rewritten, or the result fails verification;
    ///   `.invalidInput` when a selection would remove every unit of a group.
    public func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult {
        let analysis = try StructureAnalysis(model: model)
        var plan = RemovalPlan()
        for entry in selection.entries {
            guard case .prune(let mask) = entry.decision, mask.setCount > 0 else { continue }
            guard let group = analysis.group(named: entry.target.name), group.isPrunable,
                group.target == entry.target
            else {
                throw PruneError(
                    .unsupported,
                    "'remove' cuts structural groups; '\(entry.target.name)' is not a prunable group of this model "
                        + "(it needs unit granularity on an ONNX model)", hint: .unitGranularity)
            }
            guard mask.setCount < group.unitCount else {
                throw PruneError(
                    .invalidInput,
                    "'remove' would delete all \(group.unitCount) units of group '\(group.name)'; keep at least one")
            }
            plan.remove(mask, of: group)
        }
        guard let original = model.graph as? ONNXModelGraph else { return RewriteResult(model: model) }
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
        try GraphEdits.apply(plan, to: &graph, model: &result, index: index)
        GraphEdits.declareInitializerInputs(&graph, model: result)
        result.graph = ONNXModelGraph(proto: graph, opset: original.opset)
        try RewriteVerification.verify(result, original: model, rewriter: "remove")
        return RewriteResult(model: result)
    }
}
