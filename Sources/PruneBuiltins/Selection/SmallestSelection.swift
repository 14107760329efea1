import PruneCore

/// Exact "prune the k smallest" over one or many score arrays, without sorting them.
///
/// The rule: with segments (targets) taken in order and positions in index order, the selected positions are
/// the `k` smallest scores; among equal scores the earlier position goes first. For several segments with a
/// global budget `k`, each segment's count is clamped to its own `[lower, upper]` quota and the threshold is
/// moved until the clamped counts add up to `k` (floors win when they demand more than `k`, caps when they
/// allow less).
///
/// The threshold is found by sampling: a seeded sample of the scores brackets the k-th value in a narrow window,
/// one vectorised pass counts what lies below the window and collects what lies inside it, and the exact answer
/// is computed from the window alone; a window that misses (rare) is widened and the pass repeated. The result
/// does not depend on the sample — only the time does.
package enum SmallestSelection {
    /// How many positions one segment may give up.
    package struct Quota: Sendable, Hashable {
        package var lower: Int
        package var upper: Int

        package init(lower: Int, upper: Int) {
            self.lower = lower
            self.upper = upper
        }
    }

    /// The mask of the `k` smallest entries of `scores` (ties: lower index first).
    package static func mask(smallest k: Int, of scores: [Float], seed: UInt64 = 0) -> Mask {
        masks(smallest: k, of: [scores], quotas: [Quota(lower: 0, upper: scores.count)], seed: seed, threads: 1)[0]
    }

    /// Per-segment masks selecting `k` positions in total under the segments' quotas.
    ///
    /// - Complexity: O(total) in two passes (scan, then mask) plus O(window log window), window ≈ 1 % of the
    ///   total; a segment whose quota binds costs one more single-segment selection.
    package static func masks(
        smallest k: Int, of segments: [[Float]], quotas: [Quota], seed: UInt64, threads: Int
    ) -> [Mask] {
        precondition(segments.count == quotas.count, "one quota per segment")
        let lowerTotal = quotas.reduce(0) { $0 + $1.lower }
        let upperTotal = quotas.reduce(0) { $0 + $1.upper }
        if k <= lowerTotal || k >= upperTotal {
            let bound = k <= lowerTotal ? quotas.map(\.lower) : quotas.map(\.upper)
            return try! ParallelFor.map(segments.count, threads: threads) { s in
                single(bound[s], of: segments[s], seed: seed)
            }
        }
        let plan = solve(k, segments: segments, quotas: quotas, seed: seed, threads: threads)
        return try! ParallelFor.map(segments.count, threads: threads) { s in
            let count = plan.counts[s]
            let scan = plan.scans[s]
            let strictlyBelow = scan.below + scan.countBelow(plan.threshold)
            let atMost = scan.below + scan.countAtMost(plan.threshold)
            guard count >= strictlyBelow, count <= atMost else {
                return single(count, of: segments[s], seed: seed)  // its quota moved it off the threshold
            }
            var mask = Mask(count: segments[s].count)
            segments[s].withUnsafeBufferPointer { buffer in
                let set = ScoreScan.setBelow(plan.threshold, in: buffer, mask: &mask)
                ScoreScan.setFirstEqual(plan.threshold, count: count - set, in: buffer, mask: &mask)
            }
            return mask
        }
    }

    /// The `count` smallest of one segment on its own.
    private static func single(_ count: Int, of values: [Float], seed: UInt64) -> Mask {
        var mask = Mask(count: values.count)
        if count <= 0 { return mask }
        if count >= values.count {
            mask.setRange(0..<values.count)
            return mask
        }
        let quota = Quota(lower: 0, upper: values.count)
        return masks(smallest: count, of: [values], quotas: [quota], seed: seed, threads: 1)[0]
    }

    private struct Plan {
        let counts: [Int]
        let threshold: Float
        let scans: [WindowScan]
    }

    /// Finds the threshold and per-segment counts (for `k` strictly between the quota sums).
    private static func solve(
        _ k: Int, segments: [[Float]], quotas: [Quota], seed: UInt64, threads: Int
    ) -> Plan {
        var (low, high) = sampleWindow(k, segments: segments, seed: seed)
        while true {
            let (lo, hi) = (low, high)
            let scans = try! ParallelFor.map(segments.count, threads: threads) { s in
                segments[s].withUnsafeBufferPointer { WindowScan(values: $0, low: lo, high: hi) }
            }
            if let plan = solve(k, scans: scans, quotas: quotas) { return plan }
            // The answer lies outside the window: widen towards the side it must be on.
            let belowTotal = zip(scans, quotas).reduce(0) { $0 + clamp($1.0.below, $1.1) }
            if belowTotal >= k { low = -.infinity } else { high = .infinity }
        }
    }

    /// Brackets the k-th smallest score by sampling (ignoring quotas, which only shift it a little).
    private static func sampleWindow(_ k: Int, segments: [[Float]], seed: UInt64) -> (Float, Float) {
        let total = segments.reduce(0) { $0 + $1.count }
        let sampleSize = min(total, 1 << 18)
        guard sampleSize < total else { return (-.infinity, .infinity) }
        var starts: [Int] = []
        var running = 0
        for segment in segments {
            starts.append(running)
            running += segment.count
        }
        var generator = SplitMix64(seed: seed ^ 0x5E1E_C7)
        // Stratified: one random position in each of `sampleSize` equal strata, so positions come out in
        // increasing order (reads stream through memory) and every region of the scores is represented.
        var sample = [Float]()
        sample.reserveCapacity(sampleSize)
        var segment = 0
        for stratum in 0..<sampleSize {
            let start = stratum * total / sampleSize
            let end = (stratum + 1) * total / sampleSize
            let position = start + Int(generator.next() % UInt64(end - start))
            while position >= starts[segment] + segments[segment].count { segment += 1 }
            sample.append(segments[segment][position - starts[segment]])
        }
        sample.sort()
        let q = Double(k) / Double(total)
        let center = q * Double(sampleSize)
        let spread = 4 * (Double(sampleSize) * q * (1 - q)).squareRoot() + 16
        let lowIndex = Int(center - spread)
        let highIndex = Int(center + spread)
        let low: Float = lowIndex <= 0 ? -.infinity : sample[lowIndex]
        let high: Float = highIndex >= sampleSize - 1 ? .infinity : sample[highIndex]
        return (low, high)
    }

    /// The exact plan when the answer lies in the window scanned, or nil when it does not.
    private static func solve(_ k: Int, scans: [WindowScan], quotas: [Quota]) -> Plan? {
        // G(x) = Σ clamp(#(v ≤ x)) is non-decreasing; find the smallest window value x with G(x) ≥ k.
        let belowWindow = zip(scans, quotas).reduce(0) { $0 + clamp($1.0.below, $1.1) }
        guard belowWindow < k else { return nil }
        func g(_ x: Float) -> Int {
            zip(scans, quotas).reduce(0) { $0 + clamp($1.0.below + $1.0.countAtMost(x), $1.1) }
        }
        // Search the order-preserving bit patterns between the smallest and largest window values: G only
        // changes at data values, so the least pattern with G ≥ k is a data value.
        guard let smallest = scans.compactMap({ $0.window.min() }).min(),
            let largest = scans.compactMap({ $0.window.max() }).max(), g(largest) >= k
        else { return nil }
        var lo = SortedOrder.sortableBits(smallest)
        var hi = SortedOrder.sortableBits(largest)
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if g(SortedOrder.float(fromSortableBits: mid)) >= k { hi = mid } else { lo = mid + 1 }
        }
        let x = SortedOrder.float(fromSortableBits: lo)
        // Everything strictly below x goes; ties at x fill what is left, earlier segments first.
        var counts = zip(scans, quotas).map { clamp($0.0.below + $0.0.countBelow(x), $0.1) }
        var remaining = k - counts.reduce(0, +)
        for s in counts.indices where remaining > 0 {
            let most = clamp(scans[s].below + scans[s].countAtMost(x), quotas[s])
            let extra = min(remaining, most - counts[s])
            counts[s] += extra
            remaining -= extra
        }
        return Plan(counts: counts, threshold: x, scans: scans)
    }

    private static func clamp(_ count: Int, _ quota: Quota) -> Int {
        min(max(count, quota.lower), quota.upper)
    }
}

/// What one pass over a segment learns about a window `[low, high]`: how many values lie below it, and the
/// values inside it (unsorted; counted with vector loops, which beats sorting them).
private struct WindowScan: Sendable {
    let below: Int
    let window: [Float]

    init(values: UnsafeBufferPointer<Float>, low: Float, high: Float) {
        var inside: [Float] = []
        below = ScoreScan.countBelowCollecting(values, low: low, high: high, into: &inside)
        window = inside
    }

    /// Window values ≤ x.
    func countAtMost(_ x: Float) -> Int { window.withUnsafeBufferPointer { Kernels.countAtMost($0, x) } }

    /// Window values < x.
    func countBelow(_ x: Float) -> Int { window.withUnsafeBufferPointer { Kernels.countBelow($0, x) } }
}

/// SplitMix64 (Steele et al.): a tiny, fast, seedable generator; the same seed gives the same stream everywhere.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
