import PruneCore

/// OWL, outlier-weighted layer sparsity (Yin et al. 2023): layers with more outliers among their scores keep more.
///
/// For each element target the outlier ratio D is the fraction of its scores above `m` × the target's mean score
/// (with the `activation` scorer these are Wanda's |w|·‖x‖₂ scores, as in the paper). The ratios are mapped
/// linearly onto kept fractions spanning 2λ (the target with the most outliers keeps the most), then shifted so the
/// element-weighted mean sparsity equals `sparsity`; each target's sparsity is clamped to [0, 1). Within a target
/// the lowest scores go per output row (Wanda's comparison group, the paper's default) or per whole layer.
///
/// Two deviations from the reference code, both so the stage's overall fraction is exactly `sparsity`: the shift
/// uses the element-weighted mean (the reference averages layers unweighted, which matches only when layers are
/// equally large), and the ratios are compared across all targets of the stage (the reference compares the linear
/// layers within one transformer block at a time; restrict a stage with `include` to do the same).
public struct OutlierWeightedSelector: Selector {
    /// Which positions compete within a target.
    public enum Comparison: String, Sendable, CaseIterable {
        /// Each output row prunes its own fraction (Wanda).
        case row
        /// The whole tensor competes at once.
        case layer
    }

    /// The overall fraction to prune, in [0, 1).
    public let sparsity: Double
    /// A score is an outlier above this multiple of its target's mean score (the paper's M, 5 by default).
    public let outlierMultiple: Double
    /// Per-target sparsities span [sparsity − λ, sparsity + λ] before clamping (the paper's λ).
    public let spread: Double
    /// Which positions compete within a target.
    public let comparison: Comparison

    /// Creates the selector.
    public init(sparsity: Double, outlierMultiple: Double = 5, spread: Double = 0.08, comparison: Comparison = .row) {
        self.sparsity = sparsity
        self.outlierMultiple = outlierMultiple
        self.spread = spread
        self.comparison = comparison
    }

    /// The fraction of `scores` above `multiple` × their mean.
    package static func outlierRatio(_ scores: [Float], multiple: Double) -> Double {
        guard !scores.isEmpty else { return 0 }
        let mean = scores.reduce(0.0) { $0 + Double($1) } / Double(scores.count)
        let limit = Float(mean * multiple)
        var count = 0
        for value in scores { count &+= Int(unsafeBitCast(value > limit, to: UInt8.self)) }
        return Double(count) / Double(scores.count)
    }

    /// The per-target sparsities for outlier ratios `ratios` of targets with `sizes` elements.
    ///
    /// Kept fraction before the shift: 2λ·(D − D_min)/(D_max − D_min) (all equal when every D is); the shift makes
    /// Σ sizeᵢ·sparsityᵢ / Σ sizeᵢ = `sparsity`; then each is clamped to [0, 0.999].
    package static func sparsities(ratios: [Double], sizes: [Int], sparsity: Double, spread: Double) -> [Double] {
        guard let low = ratios.min(), let high = ratios.max() else { return [] }
        let kept = ratios.map { high > low ? ($0 - low) / (high - low) * 2 * spread : spread }
        let total = Double(sizes.reduce(0, +))
        let weightedKept = zip(kept, sizes).reduce(0.0) { $0 + $1.0 * Double($1.1) } / max(total, 1)
        let shift = (1 - sparsity) - weightedKept
        return kept.map { min(0.999, max(0, 1 - ($0 + shift))) }
    }

    /// Per-target masks at OWL's per-target sparsities.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` for unit targets (OWL allocates weight sparsity).
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        if let unit = scored.first(where: { $0.target.granularity != .element }) {
            throw PruneError(
                .invalidParameter, "'owl' allocates weight sparsity per layer; '\(unit.target.name)' is a unit target")
        }
        let multiple = outlierMultiple
        let ratios = try ParallelFor.map(scored.count, threads: context.threads) { i in
            Self.outlierRatio(scored[i].scores.values, multiple: multiple)
        }
        let levels = Self.sparsities(
            ratios: ratios, sizes: scored.map(\.scores.count), sparsity: sparsity, spread: spread)
        let (comparison, seed) = (self.comparison, context.seed)
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            guard comparison == .row, let layout = item.layout else {
                let k = Budget.count(levels[i], of: item.scores.count)
                return Selection.Entry(
                    target: item.target, decision: .prune(SmallestSelection.mask(smallest: k, of: item.scores.values, seed: seed)))
            }
            let rows = AxisGroups(shape: item.shape, axis: layout.outputAxis)
            var mask = Mask(count: item.scores.count)
            var row = [Float](repeating: 0, count: rows.groupSize)
            let k = Budget.count(levels[i], of: rows.groupSize)
            for unit in 0..<rows.groupCount {
                rows.gather(unit, from: item.scores.values, into: &row)
                for position in SmallestSelection.mask(smallest: k, of: row).setIndices {
                    mask[rows.flatIndex(unit, position)] = true
                }
            }
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
