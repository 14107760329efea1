import PruneCore

/// Scores positions with seeded uniform random numbers: the floor any real criterion should beat.
///
/// The score of a position depends only on the seed, the target's name and the position, so results repeat
/// across runs, thread counts and file orders.
public struct RandomScorer: Scorer {
    /// The seed; the context's seed is mixed in too.
    public let seed: UInt64

    /// Creates the scorer.
    public init(seed: UInt64 = 0) { self.seed = seed }

    /// Uniform scores in [0, 1).
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        var generator = SplitMix64(seed: seed ^ context.seed ^ RandomScorer.fnv1a(target.name))
        return Scores((0..<target.scoreCount).map { _ in Float(generator.next() >> 40) * 0x1p-24 })
    }

    /// FNV-1a of the UTF-8 bytes: a hash that, unlike `Hasher`, is the same in every process.
    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}
