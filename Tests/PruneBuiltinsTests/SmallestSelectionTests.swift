import Testing

@testable import PruneBuiltins
@testable import PruneCore

/// The sampling selection against plain sorting, on arrays large enough to take the sampling path.
@Suite("Exact smallest-k selection")
struct SmallestSelectionTests {
    /// Reference: sort (score, segment, index) and take the first k.
    private func reference(_ k: Int, _ segments: [[Float]]) -> [Set<Int>] {
        var all: [(Float, Int, Int)] = []
        for (s, segment) in segments.enumerated() {
            for (i, v) in segment.enumerated() { all.append((v, s, i)) }
        }
        all.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
        var result = [Set<Int>](repeating: [], count: segments.count)
        for (_, s, i) in all.prefix(k) { result[s].insert(i) }
        return result
    }

    private func randomSegments(_ sizes: [Int], levels: Int, seed: UInt64) -> [[Float]] {
        var generator = SplitMix64(seed: seed)
        // Few distinct levels force many ties at the boundary.
        return sizes.map { n in (0..<n).map { _ in Float(generator.next() % UInt64(levels)) * 0.5 - 3 } }
    }

    @Test(arguments: [0.0, 0.1, 0.5, 0.77, 0.999])
    func globalSelectionEqualsSorting(fraction: Double) {
        let segments = randomSegments([150_000, 7, 200_003, 90_000], levels: 5000, seed: 42)
        let total = segments.reduce(0) { $0 + $1.count }
        let k = Int(fraction * Double(total))
        let quotas = segments.map { SmallestSelection.Quota(lower: 0, upper: $0.count) }
        let masks = SmallestSelection.masks(smallest: k, of: segments, quotas: quotas, seed: 7, threads: 2)
        let expected = reference(k, segments)
        for s in segments.indices { #expect(Set(masks[s].setIndices) == expected[s], "segment \(s)") }
    }

    @Test func heavyTiesAtTheBoundaryBreakByPosition() {
        let segments = randomSegments([300_000, 300_000], levels: 3, seed: 9)
        let k = 250_001
        let quotas = segments.map { SmallestSelection.Quota(lower: 0, upper: $0.count) }
        let masks = SmallestSelection.masks(smallest: k, of: segments, quotas: quotas, seed: 1, threads: 2)
        let expected = reference(k, segments)
        #expect(Set(masks[0].setIndices) == expected[0])
        #expect(Set(masks[1].setIndices) == expected[1])
    }

    @Test func resultDoesNotDependOnSeedOrThreads() {
        let segments = randomSegments([400_000], levels: 100_000, seed: 3)
        let quotas = [SmallestSelection.Quota(lower: 0, upper: 400_000)]
        let a = SmallestSelection.masks(smallest: 123_456, of: segments, quotas: quotas, seed: 1, threads: 1)
        let b = SmallestSelection.masks(smallest: 123_456, of: segments, quotas: quotas, seed: 99, threads: 2)
        #expect(a == b)
        #expect(a[0].setCount == 123_456)
    }

    @Test func quotasBoundEachSegmentAndTheTotalHolds() {
        // Segment 0 holds all the small values; a cap of 10 % keeps it alive, a floor of 20 % on segment 1
        // forces pruning there even though its values are all larger.
        var generator = SplitMix64(seed: 5)
        let small = (0..<300_000).map { _ in Float(generator.next() % 1000) }
        let large = (0..<300_000).map { _ in 10_000 + Float(generator.next() % 1000) }
        let quotas = [
            SmallestSelection.Quota(lower: 0, upper: 30_000), SmallestSelection.Quota(lower: 60_000, upper: 300_000),
        ]
        let masks = SmallestSelection.masks(smallest: 200_000, of: [small, large], quotas: quotas, seed: 0, threads: 2)
        #expect(masks[0].setCount == 30_000)
        #expect(masks[1].setCount == 170_000)
        // Within each segment the pruned ones are its smallest, ties by index.
        #expect(Set(masks[0].setIndices) == reference(30_000, [small])[0])
        #expect(Set(masks[1].setIndices) == reference(170_000, [large])[0])
    }
}
