import Foundation

/// How much a model's fidelity drops when each prunable target alone is pruned to each sparsity of a grid.
///
/// `prune sensitivity` measures it (one target at a time, every other target dense) and caches it as JSON;
/// budgets (`--target macs=…`) and the over-pruning guard read it to choose per-target sparsities. The structure is
/// the file format of the cache, so fields are only ever added (optional), never renamed.
public struct SensitivityCurves: Sendable, Codable, Hashable {
    /// How fidelity is measured against the dense model.
    public enum Metric: String, Sendable, Codable, Hashable, CaseIterable {
        /// Fraction of samples whose top-1 class equals the dense model's.
        case agreement
        /// Mean cosine similarity of the outputs to the dense model's.
        case cosine
        /// Fraction of samples whose top-1 class equals the label.
        case accuracy
    }

    /// What one target is: a dependency group of units (structured) or one tensor's weights (unstructured).
    public enum Granularity: String, Sendable, Codable, Hashable {
        /// Whole units (channels, neurons, heads) of a dependency group, removed physically.
        case unit
        /// Individual weights of one tensor, masked.
        case weight
    }

    /// One measurement: the target pruned to `sparsity`, everything else dense.
    public struct Point: Sendable, Codable, Hashable {
        /// Fraction of the target's units (or weights) removed.
        public var sparsity: Double
        /// The metric's value for the whole model with this target pruned.
        public var fidelity: Double
        /// Parameters of the whole model with this target pruned.
        public var parameters: Int
        /// Multiply-accumulates of the whole model for one sample, when known.
        public var macs: Int?
        /// Median interpreter latency of the whole model for one batch, in seconds, when measured.
        public var latencySeconds: Double?
        /// Units (or weights) the selector actually removed: `sparsity` × ``Curve/units`` rounded half to even (the
        /// `layer` selector's rule), so the realised sparsity is `pruned / units`. Nil in caches written before it
        /// was recorded.
        public var pruned: Int?

        /// Creates a point.
        public init(
            sparsity: Double, fidelity: Double, parameters: Int, macs: Int? = nil, latencySeconds: Double? = nil,
            pruned: Int? = nil
        ) {
            self.sparsity = sparsity
            self.fidelity = fidelity
            self.parameters = parameters
            self.macs = macs
            self.latencySeconds = latencySeconds
            self.pruned = pruned
        }
    }

    /// One target's curve.
    public struct Curve: Sendable, Codable, Hashable {
        /// The target's name: the group's name as `prune inspect --groups` prints it, or the tensor's name.
        public var target: String
        /// Units (or weights) the target has.
        public var units: Int
        /// Measurements, ascending by sparsity.
        public var points: [Point]

        /// Creates a curve.
        public init(target: String, units: Int, points: [Point]) {
            self.target = target
            self.units = units
            self.points = points
        }
    }

    /// The model file's name (not its path) and its SHA-256, so a cache is never applied to another model.
    public var model: String
    /// Hex SHA-256 of the model file.
    public var modelDigest: String
    /// The fidelity metric.
    public var metric: Metric
    /// Structured or unstructured targets.
    public var granularity: Granularity
    /// The scorer specification that ranked units or weights (for example `magnitude:p=2`).
    public var scorer: String
    /// The dense model's values, for reference: metric (1 for agreement/cosine), parameters, MACs, latency.
    public var dense: Point
    /// One curve per target, in the analysis's order.
    public var curves: [Curve]
    /// The rewriter each point was pruned with, when not the default (`remove` for units, `mask` for weights).
    public var rewriter: String?
    /// The input shapes the points' MACs were counted at, for a model with dynamic axes beyond the batch (a
    /// sequence length, read from the measured data); nil when the model's shapes are static.
    public var macsInputShapes: [String: [Int]]?

    /// Creates curves.
    public init(
        model: String, modelDigest: String, metric: Metric, granularity: Granularity, scorer: String, dense: Point,
        curves: [Curve]
    ) {
        self.model = model
        self.modelDigest = modelDigest
        self.metric = metric
        self.granularity = granularity
        self.scorer = scorer
        self.dense = dense
        self.curves = curves
    }
}
