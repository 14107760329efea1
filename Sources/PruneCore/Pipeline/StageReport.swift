/// What one pipeline stage did: per target, how much it pruned or why it skipped; and how long each phase took.
public struct StageReport: Sendable, Codable, Hashable {
    /// One target's outcome.
    public struct TargetOutcome: Sendable, Codable, Hashable {
        /// The target's name (a tensor or group).
        public var name: String
        /// Element or unit.
        public var granularity: PruneTarget.Granularity
        /// How many positions (elements or units) the target has.
        public var positions: Int
        /// How many the selector chose to prune (0 when skipped).
        public var pruned: Int
        /// Why the selector left the target alone, if it did.
        public var skipReason: String?

        init(_ entry: Selection.Entry) {
            name = entry.target.name
            granularity = entry.target.granularity
            positions = entry.target.scoreCount
            switch entry.decision {
            case .prune(let mask):
                pruned = mask.setCount
                skipReason = nil
            case .skip(let reason):
                pruned = 0
                skipReason = reason
            }
        }
    }

    /// A tensor the stage's filter matched but could not turn into a target.
    public struct PassedOver: Sendable, Codable, Hashable {
        /// The tensor's name.
        public var name: String
        /// Why it was passed over.
        public var reason: String
    }

    /// The stage's label.
    public var name: String
    /// Its components as specified.
    public var description: StageDescription
    /// Element or unit pruning.
    public var granularity: PruneTarget.Granularity
    /// Every target's outcome, in order.
    public var targets: [TargetOutcome]
    /// Tensors that matched but were not pruned, with the reason.
    public var passedOver: [PassedOver]
    /// Wall-clock time spent scoring.
    public var scoringSeconds: Double
    /// Wall-clock time spent selecting.
    public var selectionSeconds: Double
    /// Wall-clock time spent rewriting.
    public var rewriteSeconds: Double
    /// What a reconstructing rewriter did to each layer (nil for other rewriters).
    public var reconstruction: [LayerReconstruction]? = nil
    /// The rule that chose the stage's candidates, in words (``TargetFilter/rule``).
    public var candidates: String? = nil
    /// Whether calibration statistics were collected again on the stage's input before it scored (nil: they were
    /// not asked for).
    public var recalibrated: Bool? = nil

    /// Positions (weights or units) of every target together.
    public var candidatePositions: Int { targets.reduce(0) { $0 + $1.positions } }
    /// Positions the selector chose to prune, over every target.
    public var prunedPositions: Int { targets.reduce(0) { $0 + $1.pruned } }
}
