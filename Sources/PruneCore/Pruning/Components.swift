/// Decides how important each element or unit of a target is.
///
/// A scorer is pure: it reads the model (and the calibration statistics it declares) from the context and returns one
/// finite score per position of the target; higher scores are kept longer. The pipeline checks the count and
/// finiteness of what comes back.
public protocol Scorer: Sendable {
    /// Scores every position of `target`.
    ///
    /// - Throws: `PruneError` when the target cannot be scored (an unsupported dtype, missing data).
    func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores

    /// The calibration statistics the scorer reads from ``PruneContext/statistics`` (none by default).
    var statisticsRequirement: StatisticsRequirement { get }
}

/// Decides which positions go, given every scored target of a stage at once (so ranking can be global).
public protocol Selector: Sendable {
    /// Returns a decision for each scored target, in the same order.
    func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection
}

/// Changes a model according to a selection: writes zeros, removes units, re-encodes, or reconstructs.
public protocol Rewriter: Sendable {
    /// Returns the rewritten model; `model` itself is left as it was.
    func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> Model
    /// Whether the rewriter runs calibration batches (``PruneContext/calibrationBatches``); false by default.
    var needsCalibrationBatches: Bool { get }
}

extension Rewriter {
    /// Data-free by default.
    public var needsCalibrationBatches: Bool { false }
}

extension Scorer {
    /// Data-free by default: no calibration statistics.
    public var statisticsRequirement: StatisticsRequirement { .none }
}
