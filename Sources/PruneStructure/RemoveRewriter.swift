import ONNXProto
import PruneCore
import PruneFormats

/// Physically removes the selected units of dependency groups: every coupled initializer is cut, depthwise
/// `group` attributes, flattening `Reshape` shapes and declared `value_info` shapes follow, and the model's graph
/// is replaced by the edited one, so the written ONNX file is smaller and does less work.
///
/// Works on the group targets ``GroupTargets`` produces (`--granularity unit` on an ONNX model). It takes every
/// group from the model's structure analysis (the one the targets came from, kept with the graph), so biases,
/// normalisation statistics and per-channel constants are cut with the weights the scorer saw. Removing units whose weights are all zero leaves the outputs unchanged.
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
        // The targets decide which groups go; a hidden width among them was asked for (`--include-hidden-width`),
        // head-dimension groups by `--head-dims`.
        let headDimensions = try StructureAnalysis.selectsHeadDimensions(selection, in: model)
        let removal = try GroupRemoval(model: model, includingHiddenWidth: true, headDimensions: headDimensions)
        return RewriteResult(model: try removal.removing(selection))
    }
}
