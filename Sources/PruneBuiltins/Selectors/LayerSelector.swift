import PruneCore

/// Prunes the same fraction of every target: the round(sparsity × n) lowest-scored positions of each.
///
/// With `magnitude` on elements this is `torch.nn.utils.prune.l1_unstructured` applied to each tensor; on units
/// it is `ln_structured`. Ties at the boundary: the lower index is pruned first. With `rounding: .floorKeep` the
/// count is n − ⌊n·(1 − sparsity)⌋, Torch-Pruning's local rule, so `magnitude:p=2` on dependency groups keeps the
/// channels Torch-Pruning keeps.
///
/// With `multiple` N > 1 (unit targets only) the kept width is then rounded to a multiple of N: with C units and p
/// pruned by the rule above, kept = min(C, max(N, N·⌊(C − p)/N + ½⌋)) (halves keep more), so each group keeps a
/// non-zero multiple of N units, or all C when C ≤ N; the pruned units are the C − kept lowest-scored.
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
    /// Kept unit counts are rounded to a multiple of this (1: no rounding).
    public let multiple: Int

    /// Creates the selector with PyTorch's rounding.
    public init(sparsity: Double) { self.init(sparsity: sparsity, rounding: .nearest) }

    /// Creates the selector with the given rounding.
    ///
    /// - Parameter multiple: round each unit target's kept width to a multiple of this (1 leaves it alone).
    /// - Precondition: `multiple ≥ 1`.
    public init(sparsity: Double, rounding: Rounding, multiple: Int = 1) {
        precondition(multiple >= 1, "multiple must be at least 1")
        self.sparsity = sparsity
        self.rounding = rounding
        self.multiple = multiple
    }

    /// One mask per target with round-half-even(sparsity × n) positions set (then the width rounding).
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when `multiple > 1` meets an element target.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        try WidthRounding.check(scored, multiple: multiple, selector: "layer")
        let (sparsity, rounding, multiple) = (self.sparsity, self.rounding, self.multiple)
        let seed = context.seed
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            let n = item.scores.count
            let k =
                rounding == .nearest
                ? Budget.count(sparsity, of: n) : n - Int((Double(n) * (1 - sparsity)).rounded(.down))
            let mask = SmallestSelection.mask(
                smallest: WidthRounding.pruned(k, of: n, multiple: multiple), of: item.scores.values, seed: seed)
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
