import PruneCore

/// How a sparsity fraction becomes a count of pruned positions.
enum Budget {
    /// round(fraction × count), halves to even — Python's `round`, which PyTorch's pruning uses.
    static func count(_ fraction: Double, of total: Int) -> Int {
        Int((fraction * Double(total)).rounded(.toNearestOrEven))
    }
}

/// Round-to-multiple widths for unit targets (`round=N` on `layer` and `global`).
enum WidthRounding {
    /// The pruned count after rounding the kept width of `count` units to a multiple of `multiple`:
    /// kept = min(count, max(multiple, multiple·⌊(count − pruned)/multiple + ½⌋)) (halves keep more), so a target
    /// keeps a non-zero multiple of `multiple` units, or all of them when it has no more than `multiple`.
    static func pruned(_ pruned: Int, of count: Int, multiple: Int) -> Int {
        guard multiple > 1 else { return pruned }
        let kept = count - pruned
        let rounded = (kept + multiple / 2) / multiple * multiple
        return count - min(count, max(multiple, rounded))
    }

    /// Refuses `round` above 1 on targets that are not units.
    static func check(_ scored: [ScoredTarget], multiple: Int, selector: String) throws {
        guard multiple > 1, let item = scored.first(where: { $0.target.granularity != .unit }) else { return }
        throw PruneError(
            .invalidParameter,
            "'\(selector)': round=\(multiple) rounds channel and neuron counts; '\(item.target.name)' is an element "
                + "target", hint: .unitGranularity)
    }
}
