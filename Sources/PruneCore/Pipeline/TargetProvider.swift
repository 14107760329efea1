/// Produces a stage's targets from the structure of a model, instead of tensor by tensor.
///
/// Structural pruning sets one on a ``Stage``: it couples the slices of every tensor that one unit (a channel or
/// neuron) touches into a group target. The stage's ``TargetFilter`` is passed along so a provider can honour its
/// patterns.
public protocol TargetProvider: Sendable {
    /// The targets in `model`, and the tensors or groups passed over with the reason.
    ///
    /// - Throws: `PruneError` when the model cannot be analysed (no graph, a bad pattern).
    func targets(in model: Model, filter: TargetFilter) throws -> (
        targets: [PruneTarget], skipped: [(name: String, reason: String)]
    )
}
