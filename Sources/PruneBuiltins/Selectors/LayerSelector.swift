import PruneCore

/// Prunes the same fraction of every target: the round(sparsity × n) lowest-scored positions of each.
///
/// With `magnitude` on elements this is `torch.nn.utils.prune.l1_unstructured` applied to each tensor; on units
/// it is `ln_structured`. Ties at the boundary: the lower index is pruned first.
public struct LayerSelector: Selector {
    /// The fraction of each target to prune, in [0, 1).
    public let sparsity: Double

    /// Creates the selector.
    public init(sparsity: Double) { self.sparsity = sparsity }

    /// One mask per target with round-half-even(sparsity × n) positions set.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let sparsity = self.sparsity
        let seed = context.seed
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            let k = Budget.count(sparsity, of: item.scores.count)
            let mask = SmallestSelection.mask(smallest: k, of: item.scores.values, seed: seed)
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
