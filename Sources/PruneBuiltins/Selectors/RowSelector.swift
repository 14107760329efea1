import PruneCore

/// Prunes the same fraction of every output row: round(sparsity × row length) lowest scores per row.
///
/// A row is every weight feeding one output unit (for a conv weight, the whole `[in, kh, kw]` filter). This is
/// the comparison group of Wanda. Element targets only; unit targets are skipped with a reason.
public struct RowSelector: Selector {
    /// The fraction of each row to prune, in [0, 1).
    public let sparsity: Double

    /// Creates the selector.
    public init(sparsity: Double) { self.sparsity = sparsity }

    /// Per-target masks, selected row by row.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let sparsity = self.sparsity
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            guard item.target.granularity == .element, let layout = item.layout else {
                return Selection.Entry(
                    target: item.target, decision: .skip(reason: "row selection needs a layer weight"))
            }
            let rows = AxisGroups(shape: item.shape, axis: layout.outputAxis)
            var mask = Mask(count: item.scores.count)
            var row = [Float](repeating: 0, count: rows.groupSize)
            let k = Budget.count(sparsity, of: rows.groupSize)
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

/// The elements of a tensor grouped by their index along one axis, each group in increasing flat order.
struct AxisGroups {
    let outer: Int
    let extent: Int
    let inner: Int

    init(shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        extent = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    var groupCount: Int { extent }
    var groupSize: Int { outer * inner }

    /// The flat index of the `position`-th element of group `group`.
    func flatIndex(_ group: Int, _ position: Int) -> Int {
        let (o, i) = position.quotientAndRemainder(dividingBy: inner)
        return (o * extent + group) * inner + i
    }

    func gather(_ group: Int, from values: [Float], into row: inout [Float]) {
        for o in 0..<outer {
            let base = (o * extent + group) * inner
            for i in 0..<inner { row[o * inner + i] = values[base + i] }
        }
    }
}
