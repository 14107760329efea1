import PruneCore

/// How a sparsity fraction becomes a count of pruned positions.
enum Budget {
    /// round(fraction × count), halves to even — Python's `round`, which PyTorch's pruning uses.
    static func count(_ fraction: Double, of total: Int) -> Int {
        Int((fraction * Double(total)).rounded(.toNearestOrEven))
    }
}
