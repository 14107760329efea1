import PruneCore

/// Prunes every position whose score is at most `tau`, in every target independently.
public struct ThresholdSelector: Selector {
    /// The largest score that is pruned.
    public let tau: Float

    /// Creates the selector.
    public init(tau: Float) { self.tau = tau }

    /// Masks of the scores ≤ τ.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let tau = self.tau
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            var mask = Mask(count: item.scores.count)
            item.scores.values.withUnsafeBufferPointer { buffer in
                _ = ScoreScan.setBelow(tau.nextUp, in: buffer, mask: &mask)
            }
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
