/// The calibration data a component reads: statistics of activations, the batches themselves, or neither.
///
/// Scorers and rewriters declare it the same way (``Scorer/dataNeeds``, ``Rewriter/dataNeeds``); a pipeline's needs
/// are the union over its stages, and its caller calibrates once on the input model to meet them.
public struct DataNeeds: Sendable, Hashable {
    /// Statistics read from ``PruneContext/statistics``.
    public var statistics: StatisticsRequirement
    /// Whether the batches in ``PruneContext/calibrationBatches`` are run (reconstruction needs activations).
    public var batches: Bool

    /// Creates a declaration.
    public init(statistics: StatisticsRequirement = .none, batches: Bool = false) {
        self.statistics = statistics
        self.batches = batches
    }

    /// Data-free.
    public static let none = DataNeeds()

    /// Whether the component cannot work without calibration data.
    public var requiresData: Bool { batches || !statistics.required.isEmpty }

    /// What either of two components reads.
    public func union(_ other: DataNeeds) -> DataNeeds {
        DataNeeds(statistics: statistics.union(other.statistics), batches: batches || other.batches)
    }
}
