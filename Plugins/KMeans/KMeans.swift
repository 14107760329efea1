/// Seeded k-means (k-means++ start, Lloyd iterations) over the rows of a matrix, in `Double`.
struct KMeans {
    /// The cluster of each row.
    private(set) var assignment: [Int]
    /// The centroids, `clusterCount × dim`.
    private(set) var centroids: [Double]
    /// The number of clusters actually used: min(k, rows).
    let clusterCount: Int
    private let rows: UnsafeBufferPointer<Float>
    private let dim: Int
    private var count: Int { assignment.count }

    /// Clusters the `rows.count / dim` rows into at most `clusters` groups.
    ///
    /// - Complexity: O(iterations · rows · clusters · dim).
    init(rows: UnsafeBufferPointer<Float>, dim: Int, clusters: Int, seed: UInt64, iterations: Int) {
        self.rows = rows
        self.dim = dim
        let count = dim > 0 ? rows.count / dim : 0
        clusterCount = max(1, min(clusters, count))
        assignment = [Int](repeating: 0, count: count)
        centroids = [Double](repeating: 0, count: clusterCount * dim)
        guard count > 0 else { return }
        var random = SplitMix64(seed: seed)
        seedCentroids(&random)
        for _ in 0..<max(1, iterations) {
            let changed = assign()
            updateCentroids()
            if !changed { break }
        }
        _ = assign()
    }

    /// Each row's distance to the centroid of the *other* members of its cluster: n/(n−1)·‖x − c‖ for a cluster
    /// of n ≥ 2 rows. A row alone in its cluster gets its distance to the nearest other centroid (0 when there is
    /// none), since no member of its own cluster can replace it.
    func leaveOneOutDistances() -> [Double] {
        var sizes = [Int](repeating: 0, count: clusterCount)
        for c in assignment { sizes[c] += 1 }
        return (0..<count).map { i in
            let c = assignment[i]
            let n = sizes[c]
            if n >= 2 { return Double(n) / Double(n - 1) * distance(row: i, centroid: c).squareRoot() }
            let others = (0..<clusterCount).filter { $0 != c && sizes[$0] > 0 }
            return others.map { distance(row: i, centroid: $0).squareRoot() }.min() ?? 0
        }
    }

    /// k-means++: the first centroid is a random row, each next one a row drawn with probability ∝ D².
    private mutating func seedCentroids(_ random: inout SplitMix64) {
        var chosen = [Int(random.next() % UInt64(count))]
        var nearest = (0..<count).map { distance(row: $0, toRow: chosen[0]) }
        while chosen.count < clusterCount {
            let total = nearest.reduce(0, +)
            var pick: Int
            if total > 0 {
                var threshold = random.nextUnit() * total
                pick = count - 1
                for i in 0..<count {
                    threshold -= nearest[i]
                    if threshold < 0 && nearest[i] > 0 {
                        pick = i
                        break
                    }
                }
                if nearest[pick] == 0 { pick = nearest.indices.max { nearest[$0] < nearest[$1] }! }
            } else {
                // All remaining rows coincide with a centroid: take the first row not chosen yet.
                pick = (0..<count).first { !chosen.contains($0) } ?? 0
            }
            chosen.append(pick)
            for i in 0..<count { nearest[i] = min(nearest[i], distance(row: i, toRow: pick)) }
        }
        for (c, row) in chosen.enumerated() {
            for j in 0..<dim { centroids[c * dim + j] = Double(rows[row * dim + j]) }
        }
    }

    /// Moves every row to its nearest centroid (ties to the lower index); returns whether anything moved.
    private mutating func assign() -> Bool {
        var changed = false
        for i in 0..<count {
            var best = 0
            var bestDistance = Double.infinity
            for c in 0..<clusterCount {
                let d = distance(row: i, centroid: c)
                if d < bestDistance {
                    best = c
                    bestDistance = d
                }
            }
            if assignment[i] != best {
                assignment[i] = best
                changed = true
            }
        }
        return changed
    }

    /// Sets each centroid to its rows' mean; an empty cluster takes the row farthest from its own centroid.
    private mutating func updateCentroids() {
        var sums = [Double](repeating: 0, count: clusterCount * dim)
        var sizes = [Int](repeating: 0, count: clusterCount)
        for i in 0..<count {
            let c = assignment[i]
            sizes[c] += 1
            for j in 0..<dim { sums[c * dim + j] += Double(rows[i * dim + j]) }
        }
        for c in 0..<clusterCount where sizes[c] > 0 {
            for j in 0..<dim { centroids[c * dim + j] = sums[c * dim + j] / Double(sizes[c]) }
        }
        for c in 0..<clusterCount where sizes[c] == 0 {
            let far = (0..<count).max {
                distance(row: $0, centroid: assignment[$0]) < distance(row: $1, centroid: assignment[$1])
            }!
            for j in 0..<dim { centroids[c * dim + j] = Double(rows[far * dim + j]) }
            assignment[far] = c
        }
    }

    /// Squared Euclidean distance from row `i` to centroid `c`.
    private func distance(row i: Int, centroid c: Int) -> Double {
        var total = 0.0
        for j in 0..<dim {
            let d = Double(rows[i * dim + j]) - centroids[c * dim + j]
            total += d * d
        }
        return total
    }

    /// Squared Euclidean distance between rows `i` and `j`.
    private func distance(row i: Int, toRow j: Int) -> Double {
        var total = 0.0
        for k in 0..<dim {
            let d = Double(rows[i * dim + k]) - Double(rows[j * dim + k])
            total += d * d
        }
        return total
    }
}

/// SplitMix64: a small, well-mixed, seedable generator (the same seed gives the same clustering everywhere).
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
