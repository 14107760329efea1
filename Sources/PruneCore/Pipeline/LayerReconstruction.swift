/// What a rewriter that updates weights did to one layer, with the squared error relative to the dense output before and after.
public struct LayerReconstruction: Sendable, Hashable, Codable {
    /// What was done.
    public enum Action: String, Sendable, Hashable, Codable {
        /// Weights and bias re-fitted by damped least squares.
        case leastSquares = "least-squares"
        /// BatchNormalization running mean and variance re-estimated.
        case batchNormStatistics = "batchnorm-statistics"
        /// Weights removed one column at a time with the optimal-brain-surgeon update of the remaining ones
        /// (unstructured or N:M, SparseGPT-style).
        case sparseOBS = "sparse-obs"
        /// Weights quantised column by column, each column's rounding error spread over the columns not yet visited
        /// with the same update (GPTQ; with a selection, SparseGPT's joint sparse + quantised sweep). Before: the
        /// error of rounding to nearest (with the selection's zeros); after: the sweep's.
        case gptq = "gptq"
        /// Weights rounded to the nearest quantisation level without an update; ``LayerReconstruction/note`` gives
        /// the scheme.
        case quantized = "quantized"
        /// The selection was applied as zeros without an update; ``LayerReconstruction/note`` says why.
        case maskOnly = "mask-only"
        /// Which units of a group go was re-chosen (same count) by greedy OBS on the consumers' inputs; the errors are
        /// the consumers' predicted relative output errors for the selection's units (before) and the chosen ones
        /// (after), ``LayerReconstruction/note`` says how many differ or why the selection was kept.
        case unitChoice = "unit-choice"
        /// The end metric: a graph output's relative squared error against the dense model on the calibration data,
        /// with the selection applied and nothing updated (before) and after the update.
        case modelOutput = "model-output"
    }

    /// The layer (node name), the BatchNormalization node, the masked tensor, or the graph output.
    public var layer: String
    /// What was done.
    public var action: Action
    /// The relative squared output error over the calibration data before the update (nil where nothing was fitted).
    ///
    /// Least squares: ‖X·W₀ − Y‖² / ‖Y‖² with the surviving weights W₀ and the dense output Y. Sparse OBS:
    /// ‖X·(W_masked − W)‖² / ‖X·W‖² of the selection's zeros alone, X the layer's input.
    public var relativeErrorBefore: Double?
    /// The same with the updated weights (nil where nothing was fitted).
    public var relativeErrorAfter: Double?
    /// Calibration rows (samples times spatial positions) the fit or the statistics used.
    public var rows: Int
    /// Why a layer was only masked, or another remark for the report.
    public var note: String?
    /// ``relativeErrorBefore`` measured on the held-out calibration samples (never used to fit), when there are any.
    public var heldOutErrorBefore: Double? = nil
    /// ``relativeErrorAfter`` measured on the held-out calibration samples, when there are any. For a BatchNorm row,
    /// the relative error of its output to the dense model's with the old (before) and re-estimated (after)
    /// statistics.
    public var heldOutErrorAfter: Double? = nil
    /// The damping the least-squares fit or the OBS sweep used, relative to the mean diagonal of XᵀX (chosen on the
    /// held-out samples when there are any).
    public var damping: Double? = nil
    /// True when the update was computed but discarded because it did not lower the error on the held-out samples
    /// (the layer kept its un-fitted weights or its old statistics); nil when no held-out decision was made.
    public var reverted: Bool? = nil

    /// Creates a row.
    public init(
        layer: String, action: Action, relativeErrorBefore: Double?, relativeErrorAfter: Double?, rows: Int,
        note: String? = nil
    ) {
        self.layer = layer
        self.action = action
        self.relativeErrorBefore = relativeErrorBefore
        self.relativeErrorAfter = relativeErrorAfter
        self.rows = rows
        self.note = note
    }

    /// Whether this is an end-metric row (``Action/modelOutput``) whose error to the dense model rose with the
    /// update: on the held-out samples when they were measured, else on the calibration data. A guard should refuse
    /// such a model, and a tool writing it anyway must say so.
    public var worsened: Bool {
        guard action == .modelOutput else { return false }
        if let before = heldOutErrorBefore, let after = heldOutErrorAfter { return after > before }
        guard let before = relativeErrorBefore, let after = relativeErrorAfter else { return false }
        return after > before
    }
}
