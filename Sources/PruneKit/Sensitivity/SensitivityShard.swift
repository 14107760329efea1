import PruneCore

/// One of `count` deterministic slices of a sensitivity sweep's work list, so that `count` machines (Slurm array
/// tasks, Kubernetes indexed jobs, Ray tasks) each measure a part and `prune sensitivity merge` joins them.
///
/// The work list is every (target, sparsity) pair, targets in the analysis's order and sparsities ascending; item
/// `k` belongs to shard `k mod count`. The list does not depend on what a cache already holds, so every machine
/// agrees on the slices whatever it has cached, and neighbouring (similar-cost) points go to different machines.
public struct SensitivityShard: Sendable, Hashable, CustomStringConvertible {
    /// The slice, from 0.
    public let index: Int
    /// How many slices there are.
    public let count: Int

    /// Creates shard `index` of `count`.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` unless `0 ≤ index < count`.
    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw PruneError(
                .invalidParameter,
                "shard \(index)/\(count) does not exist: shards are numbered 0 to N−1 for N ≥ 1 (e.g. 0/4 … 3/4)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/N`.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` naming the text.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw PruneError(.invalidParameter, "shard '\(text)' is not i/N (e.g. 0/4 for the first of four)")
        }
        try self.init(index: index, count: count)
    }

    /// Whether item `position` of the work list belongs to this shard.
    public func contains(_ position: Int) -> Bool { position % count == index }

    /// `i/N`.
    public var description: String { "\(index)/\(count)" }
}
