import PruneCore

/// N:M semi-structured sparsity: in every run of `m` consecutive weights along the input dimension, keep the
/// `n` highest-scored and prune the rest (2:4 is what sparse tensor cores accelerate).
///
/// Runs are taken along the layout's input axis at every fixed position of the other axes; for a conv weight
/// `[out, in, kh, kw]` that is along `in` at each (out, kh, kw). A target whose input extent is not a multiple
/// of `m`, or that has no layout, is skipped with the reason. Ties: the lower index is pruned first.
public struct NMSelector: Selector {
    /// Weights kept per run.
    public let n: Int
    /// Run length.
    public let m: Int

    /// Creates the selector.
    ///
    /// - Precondition: `0 <= n <= m`, `m >= 1`.
    public init(n: Int, m: Int) {
        precondition(m >= 1 && n >= 0 && n <= m, "N:M needs 0 ≤ n ≤ m and m ≥ 1")
        self.n = n
        self.m = m
    }

    /// Per-target masks with exactly m − n pruned in every run.
    public func select(_ scored: [ScoredTarget], in context: PruneContext) throws -> Selection {
        let (n, m) = (self.n, self.m)
        let entries = try ParallelFor.map(scored.count, threads: context.threads) { i in
            let item = scored[i]
            guard item.target.granularity == .element, let layout = item.layout else {
                return Selection.Entry(target: item.target, decision: .skip(reason: "N:M needs a layer weight"))
            }
            let inputs = item.shape[layout.inputAxis]
            guard inputs % m == 0 else {
                return Selection.Entry(
                    target: item.target,
                    decision: .skip(reason: "input dimension \(inputs) is not a multiple of m=\(m)"))
            }
            let innerStride = item.shape[(layout.inputAxis + 1)...].reduce(1, *)
            let outer = item.shape[..<layout.inputAxis].reduce(1, *)
            var mask = Mask(count: item.scores.count)
            var run = [(score: Float, index: Int)](repeating: (0, 0), count: m)
            let scores = item.scores.values
            for o in 0..<outer {
                for start in stride(from: 0, to: inputs, by: m) {
                    for s in 0..<innerStride {
                        for j in 0..<m {
                            let index = (o * inputs + start + j) * innerStride + s
                            run[j] = (scores[index], index)
                        }
                        run.sort { ($0.score, $0.index) < ($1.score, $1.index) }
                        for j in 0..<(m - n) { mask[run[j].index] = true }
                    }
                }
            }
            return Selection.Entry(target: item.target, decision: .prune(mask))
        }
        return Selection(entries: entries)
    }
}
