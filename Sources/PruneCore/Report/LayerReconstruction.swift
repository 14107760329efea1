/// A rewriter that updates surviving weights and reports, per layer, how close the result came to the dense model.
///
/// The pipeline calls ``reconstruct(_:applying:in:)`` instead of ``Rewriter/rewrite(_:applying:in:)`` and puts the
/// rows in ``StageReport/reconstruction``.
public protocol ReconstructingRewriter: Rewriter {
    /// Returns the rewritten model and what was done to each layer, in the order it was done.
    func reconstruct(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> (
        model: Model, layers: [LayerReconstruction]
    )
}

/// What a reconstructing rewriter did to one layer, with the squared error relative to the dense output before and after.
public struct LayerReconstruction: Sendable, Hashable, Codable {
    /// What was done.
    public enum Action: String, Sendable, Hashable, Codable {
        /// Weights and bias re-fitted by damped least squares.
        case leastSquares = "least-squares"
        /// BatchNormalization running mean and variance re-estimated.
        case batchNormStatistics = "batchnorm-statistics"
    }

    /// The layer's weight (least squares) or the BatchNormalization node's name.
    public var layer: String
    /// What was done.
    public var action: Action
    /// ‖X·W₀ − Y‖² / ‖Y‖² over the calibration data with the surviving weights (nil for BatchNormalization).
    public var relativeErrorBefore: Double?
    /// The same with the re-fitted weights (nil for BatchNormalization).
    public var relativeErrorAfter: Double?
    /// Calibration rows (samples times spatial positions) the fit or the statistics used.
    public var rows: Int

    /// Creates a row.
    public init(
        layer: String, action: Action, relativeErrorBefore: Double?, relativeErrorAfter: Double?, rows: Int
    ) {
        self.layer = layer
        self.action = action
        self.relativeErrorBefore = relativeErrorBefore
        self.relativeErrorAfter = relativeErrorAfter
        self.rows = rows
    }
}
