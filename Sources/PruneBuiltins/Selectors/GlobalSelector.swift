import PruneCore

/// Ranks every position of every target together and prunes the lowest round(sparsity × total).
///
/// With `magnitude` this is `torch.nn.utils.prune.global_unstructured(..., L1Unstructured)`. `min` and `max`
/// bound each target's own sparsity (a floor that every target reaches, a cap no target exceeds — `max < 1`
/// keeps every layer alive); when they conflict with the global budget they win. Ties at the boundary: the
/// earlier target, then the lower index, is pruned first.
///
/// With `multiple` N > 1 (unit targets only), each target's count from the global ranking (after the floors and
/// caps) is rounded as ``LayerSelector`` rounds it: kept = min(C, max(N, N·⌊(C − p)/N + ½⌋)), pruning that
/// target's C − kept lowest-scored units. The total pruned then differs from round(sparsity × total) by the
/// rounding.
public struct GlobalSelector: Selector {
    /// The overall fraction to prune, in [0, 1).
    public let sparsity: Double
    /// The least fraction pruned in any target.
    public let minimum: Double
    /// The greatest fraction pruned in any target.
    public let maximum: Double
    /// Kept unit counts are rounded to a multiple of this (1: no rounding).
    public let multiple: Int

    /// Creates the selector.
    ///
    /// - Parameter multiple: round each unit target's kept width to a multiple of this (1 leaves it alone).
    /// - Precondition: `0 ≤ minimum ≤ maximum ≤ 1`, `multiple ≥ 1`.
    public init(sparsity: Double, minimum: Double = 0, maximum: Double = 1, multiple: Int = 1) {
        precondition(0 <= minimum && minimum <= maximum && maximum <= 1, "need 0 ≤ min ≤ max ≤ 1")
        precondition(multiple >= 1, "multiple must be at least 1")
        self.multiple = multiple
        self.sparsity = sparsity
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Per-target masks from one global ranking.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when `multiple > 1` meets an element target.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        try WidthRounding.check(scored, multiple: multiple, selector: "global")
        let total = scored.reduce(0) { $0 + $1.scores.count }
        let quotas = scored.map { item in
            SmallestSelection.Quota(
                lower: Budget.count(minimum, of: item.scores.count), upper: Budget.count(maximum, of: item.scores.count)
            )
        }
        var masks = SmallestSelection.masks(
            smallest: Budget.count(sparsity, of: total), of: scored.map(\.scores.values), quotas: quotas,
            seed: context.seed, threads: context.threads)
        for (i, item) in scored.enumerated() where multiple > 1 {
            let count = WidthRounding.pruned(masks[i].setCount, of: item.scores.count, multiple: multiple)
            if count != masks[i].setCount {
                masks[i] = SmallestSelection.mask(smallest: count, of: item.scores.values, seed: context.seed)
            }
        }
        return Selection(entries: zip(scored, masks).map { Selection.Entry(target: $0.target, decision: .prune($1)) })
    }
}
