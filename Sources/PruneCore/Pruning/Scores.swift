/// One importance score per element or unit of a target; higher means more important (pruned last).
public struct Scores: Sendable, Hashable {
    /// The scores, in the target's element or unit order.
    public var values: [Float]

    /// Wraps `values`.
    public init(_ values: [Float]) { self.values = values }

    /// The number of scores.
    public var count: Int { values.count }

    /// Checks the contract every scorer must keep: one finite score per position of `target`.
    ///
    /// - Throws: `PruneError.Kind.invalidOutput` naming `source` (the scorer) and the target.
    public func validate(for target: PruneTarget, source: String) throws {
        guard values.count == target.scoreCount else {
            throw PruneError(
                .invalidOutput,
                "scorer '\(source)' returned \(values.count) scores for '\(target.name)', which needs \(target.scoreCount)"
            )
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw PruneError(
                .invalidOutput,
                "scorer '\(source)' returned \(values[bad]) at position \(bad) of '\(target.name)'; scores must be finite"
            )
        }
    }
}

/// A target together with its scores, as a selector sees it.
public struct ScoredTarget: Sendable {
    /// What was scored.
    public let target: PruneTarget
    /// The scores, `target.scoreCount` of them.
    public let scores: Scores
    /// The tensor shape for an element target (the unit count for a unit target).
    public let shape: [Int]
    /// The weight layout for an element target whose parameter has one.
    public let layout: WeightLayout?

    /// Pairs a target with its scores.
    public init(target: PruneTarget, scores: Scores, shape: [Int], layout: WeightLayout?) {
        self.target = target
        self.scores = scores
        self.shape = shape
        self.layout = layout
    }
}
