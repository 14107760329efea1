import PruneCore

/// Prunes the same fraction of every target: the round(sparsity × n) lowest-scored positions of each.
///
/// With `magnitude` on elements this is `torch.nn.utils.prune.l1_unstructured` applied to each tensor; on units
/// it is `ln_structured`. Ties at the boundary: the lower index is pruned first. With `rounding: .floorKeep` the
/// count is n − ⌊n·(1 − sparsity)⌋, Torch-Pruning's local rule, so `magnitude:p=2` on dependency groups keeps the
/// channels Torch-Pruning keeps.
public struct LayerSelector: Selector {
    /// How sparsity × n becomes a count of pruned positions.
    public enum Rounding: String, Sendable, CaseIterable {
        /// round-half-even(sparsity × n), PyTorch's `torch.nn.utils.prune` rule.
        case nearest
        /// n − ⌊n·(1 − sparsity)⌋: the kept count is rounded down, Torch-Pruning's rule.
        case floorKeep = "floor-keep"
    }

    /// The fraction of each target to prune, in [0, 1).
    public let sparsity: Double
    /// How counts are rounded.
    public let rounding: Rounding

    /// Creates the selector with PyTorch's rounding.
    public init(sparsity: Double) { self.init(sparsity: sparsity, rounding: .nearest) }

    /// Creates the selector with the given rounding.
    public init(sparsity: Double, rounding: Rounding) {
        self.sparsity = sparsity
        self.rounding = rounding
    }

    /// One mask per target with round-half-even(sparsity × n) positions set.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let (sparsity, rounding) = (self.sparsity, self.rounding)
        let seed = context.seed
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            let n = item.scores.count
            let k =
                rounding == .nearest
                ? Budget.count(sparsity, of: n) : n - Int((Double(n) * (1 - sparsity)).rounded(.down))
            let mask = SmallestSelection.mask(smallest: k, of: item.scores.values, seed: seed)
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
