/// What a selector decided: for each target, which positions (elements or units) go, or why it was skipped.
public struct Selection: Sendable {
    /// The decision for one target.
    public enum Decision: Sendable, Hashable {
        /// Prune the set positions (elements for an element target, units for a unit target).
        case prune(Mask)
        /// Leave the target as it is, for the given reason (reported to the user).
        case skip(reason: String)
    }

    /// One target's decision.
    public struct Entry: Sendable {
        /// The target decided on.
        public let target: PruneTarget
        /// The decision.
        public let decision: Decision

        /// Creates an entry.
        public init(target: PruneTarget, decision: Decision) {
            self.target = target
            self.decision = decision
        }
    }

    /// The decisions, in target order.
    public var entries: [Entry]

    /// Creates a selection.
    public init(entries: [Entry]) { self.entries = entries }

    /// The number of positions selected for pruning across all targets.
    public var prunedCount: Int {
        entries.reduce(0) { total, entry in
            if case .prune(let mask) = entry.decision { return total + mask.setCount }
            return total
        }
    }
}
