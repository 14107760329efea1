import PruneCore

#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// The exact recovery of a fixed element mask: every row of W solved by damped least squares on the columns the
/// mask keeps in it.
///
/// Row r with kept columns K minimises (w − w₀)ᵀ·(H + λI)·(w − w₀) over w with w[c] = 0 outside K — the output error
/// ‖X·(w − w₀)‖² of SparseGPT's objective, damped as its sweep is — so w[K] = (H + λI)[K, K]⁻¹·((H + λI)·w₀)[K].
/// The OBS sweep approximates this optimum (it freezes each column once visited); here each row gets it exactly.
/// Rows with the same kept columns share one Cholesky factorisation of (H + λI)[K, K] and are solved together as
/// several right-hand sides (`dpotrf`/`dpotrs`).
enum ExactRowFit {
    /// The fitted weights (row-major rows × columns, zero where `mask` is set) for `weights` (the dense rows w₀),
    /// `mask` (true = remove) and the damped Hessian `damped` (row-major columns × columns).
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming `layer` when a restricted matrix is not positive definite.
    /// - Complexity: one GEMM (rows × columns × columns) plus, per distinct kept pattern of k columns, k³/3 for the
    ///   factorisation and k² per row.
    static func fit(weights: [Double], rows: Int, columns: Int, mask: [Bool], damped: [Double], layer: String) throws
        -> [Double]
    {
        precondition(weights.count == rows * columns && mask.count == rows * columns && damped.count == columns * columns)
        guard rows > 0, columns > 0 else { return weights }
        // G = W₀·(H + λI): row r's right-hand side is G[r, K].
        var g = [Double](repeating: 0, count: rows * columns)
        let n = Int32(columns)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), n, n, 1, weights, n, damped, n, 0, &g, n)
        // Rows grouped by their kept columns.
        var groups: [[Bool]: [Int]] = [:]
        for r in 0..<rows { groups[Array(mask[(r * columns)..<((r + 1) * columns)]), default: []].append(r) }
        var result = [Double](repeating: 0, count: rows * columns)
        for (pattern, members) in groups.sorted(by: { $0.value[0] < $1.value[0] }) {
            let kept = pattern.indices.filter { !pattern[$0] }
            let k = kept.count
            guard k > 0 else { continue }
            // (H + λI)[K, K], symmetric, so row- and column-major agree.
            var a = [Double](repeating: 0, count: k * k)
            for (i, ci) in kept.enumerated() {
                for (j, cj) in kept.enumerated() { a[i * k + j] = damped[ci * columns + cj] }
            }
            // Right-hand sides column-major k × members.
            var b = [Double](repeating: 0, count: k * members.count)
            for (m, r) in members.enumerated() {
                for (i, c) in kept.enumerated() { b[m * k + i] = g[r * columns + c] }
            }
            try NormalEquations.choleskySolve(&a, &b, n: k, rightHandSides: members.count, layer: layer)
            for (m, r) in members.enumerated() {
                for (i, c) in kept.enumerated() { result[r * columns + c] = b[m * k + i] }
            }
        }
        return result
    }
}
