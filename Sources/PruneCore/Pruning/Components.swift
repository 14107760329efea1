/// Decides how important each element or unit of a target is.
///
/// A scorer is pure: it reads the model (and the calibration data it declares in ``dataNeeds``) from the context
/// and returns one finite score per position of the target; higher scores are kept longer. The pipeline checks the
/// count and finiteness of what comes back.
public protocol Scorer: Sendable {
    /// Scores every position of `target`.
    ///
    /// - Throws: `PruneError` when the target cannot be scored (an unsupported dtype, missing data).
    func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores

    /// The calibration data the scorer reads (none by default).
    var dataNeeds: DataNeeds { get }
}

/// Decides which positions go, given every scored target of a stage at once (so ranking can be global).
public protocol Selector: Sendable {
    /// Returns a decision for each scored target, in the same order.
    func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection
}

/// Changes a model according to a selection: writes zeros, removes units, re-encodes, or reconstructs.
public protocol Rewriter: Sendable {
    /// Returns the rewritten model and what was done per layer; `model` itself is left as it was.
    func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult

    /// The calibration data the rewriter reads (none by default).
    var dataNeeds: DataNeeds { get }
}

/// What a rewriter returns: the new model and, for rewriters that update weights, one row per layer.
public struct RewriteResult: Sendable {
    /// The rewritten model.
    public var model: Model
    /// What was done to each layer, in order (empty for rewriters that only apply the selection).
    public var layers: [LayerReconstruction]

    /// Creates a result.
    public init(model: Model, layers: [LayerReconstruction] = []) {
        self.model = model
        self.layers = layers
    }

    /// The end metric rows: each float graph output's error to the dense model without and with the update
    /// (``LayerReconstruction/Action/modelOutput``), on the fitted and the held-out calibration samples.
    public var endMetric: [LayerReconstruction] { layers.filter { $0.action == .modelOutput } }

    /// Whether the rewriter's own end metric says the update made the model worse (see
    /// ``LayerReconstruction/worsened``); a guard can refuse the model on it.
    public var worsened: Bool { endMetric.contains { $0.worsened } }
}

extension Rewriter {
    /// Data-free by default.
    public var dataNeeds: DataNeeds { .none }
}

extension Scorer {
    /// Data-free by default.
    public var dataNeeds: DataNeeds { .none }
}
