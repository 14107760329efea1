import PruneCore

/// Ranks every position of every target together and prunes the lowest round(sparsity × total).
///
/// With `magnitude` this is `torch.nn.utils.prune.global_unstructured(..., L1Unstructured)`. `min` and `max`
/// bound each target's own sparsity (a floor that every target reaches, a cap no target exceeds — `max < 1`
/// keeps every layer alive); when they conflict with the global budget they win. Ties at the boundary: the
/// earlier target, then the lower index, is pruned first.
public struct GlobalSelector: Selector {
    /// The overall fraction to prune, in [0, 1).
    public let sparsity: Double
    /// The least fraction pruned in any target.
    public let minimum: Double
    /// The greatest fraction pruned in any target.
    public let maximum: Double

    /// Creates the selector.
    ///
    /// - Precondition: `0 ≤ minimum ≤ maximum ≤ 1`.
    public init(sparsity: Double, minimum: Double = 0, maximum: Double = 1) {
        precondition(0 <= minimum && minimum <= maximum && maximum <= 1, "need 0 ≤ min ≤ max ≤ 1")
        self.sparsity = sparsity
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Per-target masks from one global ranking.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let total = scored.reduce(0) { $0 + $1.scores.count }
        let quotas = scored.map { item in
            SmallestSelection.Quota(
                lower: Budget.count(minimum, of: item.scores.count), upper: Budget.count(maximum, of: item.scores.count)
            )
        }
        let masks = SmallestSelection.masks(
            smallest: Budget.count(sparsity, of: total), of: scored.map(\.scores.values), quotas: quotas,
            seed: context.seed, threads: context.threads)
        return Selection(entries: zip(scored, masks).map { Selection.Entry(target: $0.target, decision: .prune($1)) })
    }
}
