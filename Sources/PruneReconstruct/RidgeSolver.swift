import PruneCore

#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// Normal equations of a least-squares fit X·W ≈ Y, accumulated over batches in double precision.
///
/// `gram` = XᵀX (d×d) and `cross` = XᵀY (d×k) are row-major; `targetSquares` = ‖Y‖²_F, so the residual of any W is
/// tr(WᵀGW) − 2·tr(WᵀC) + ‖Y‖² without keeping X or Y.
struct NormalEquations {
    let features: Int
    let outputs: Int
    private(set) var gram: [Double]
    private(set) var cross: [Double]
    private(set) var targetSquares = 0.0
    private(set) var rows = 0

    init(features: Int, outputs: Int) {
        self.features = features
        self.outputs = outputs
        gram = [Double](repeating: 0, count: features * features)
        cross = [Double](repeating: 0, count: features * outputs)
    }

    /// Adds `count` rows of X (`x`, row-major count×features) and Y (`y`, row-major count×outputs).
    mutating func add(x: [Double], y: [Double], count: Int) {
        precondition(x.count == count * features && y.count == count * outputs)
        guard count > 0 else { return }
        let (d, k) = (Int32(features), Int32(outputs))
        cblas_dgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, d, d, Int32(count), 1, x, d, x, d, 1, &gram, d)
        cblas_dgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, d, k, Int32(count), 1, x, d, y, k, 1, &cross, k)
        targetSquares += y.reduce(0) { $0 + $1 * $1 }
        rows += count
    }

    /// ‖X·W − Y‖² for `weights` (row-major features×outputs).
    func residual(_ weights: [Double]) -> Double {
        var gw = [Double](repeating: 0, count: features * outputs)
        let (d, k) = (Int32(features), Int32(outputs))
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, k, d, 1, gram, d, weights, k, 0, &gw, k)
        var quadratic = 0.0
        var linear = 0.0
        for index in weights.indices {
            quadratic += weights[index] * gw[index]
            linear += weights[index] * cross[index]
        }
        return max(0, quadratic - 2 * linear + targetSquares)
    }

    /// The mean of XᵀX's diagonal (the scale the damping is relative to).
    var meanDiagonal: Double {
        features == 0 ? 0 : (0..<features).reduce(0) { $0 + gram[$1 * features + $1] } / Double(features)
    }

    /// Solves min ‖X·W − Y‖² + λ‖W − W₀‖², i.e. (XᵀX + λI)·W = XᵀY + λ·W₀, by a Cholesky factorisation.
    ///
    /// Pulling towards the surviving weights W₀ (not towards zero) keeps the fit where the calibration data says
    /// nothing (fewer rows than features, dead inputs). `prior` and the result are row-major features×outputs.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming `layer` when the damped matrix is not positive definite.
    func solve(damping lambda: Double, prior: [Double], layer: String) throws -> [Double] {
        let n = features
        // Symmetric, so the row-major Gram matrix is its own column-major form.
        var a = gram
        for i in 0..<n { a[i * n + i] += lambda }
        // Right-hand sides column-major (n × outputs): column o holds XᵀY[:, o] + λ·W₀[:, o].
        var b = [Double](repeating: 0, count: n * outputs)
        for i in 0..<n {
            for o in 0..<outputs { b[o * n + i] = cross[i * outputs + o] + lambda * prior[i * outputs + o] }
        }
        try Self.choleskySolve(&a, &b, n: n, rightHandSides: outputs, layer: layer)
        var result = [Double](repeating: 0, count: n * outputs)
        for i in 0..<n {
            for o in 0..<outputs { result[i * outputs + o] = b[o * n + i] }
        }
        return result
    }

    /// Overwrites `b` (column-major n × rightHandSides) with A⁻¹·b, A symmetric positive definite (column-major).
    static func choleskySolve(_ a: inout [Double], _ b: inout [Double], n: Int, rightHandSides: Int, layer: String)
        throws
    {
        var info = LAPACK.choleskyLower(&a, n: n)
        guard info == 0 else {
            throw PruneError(
                .invalidInput,
                "'reconstruct': the normal equations of layer '\(layer)' are not positive definite "
                    + "(LAPACK dpotrf info \(info)); raise lambda")
        }
        info = LAPACK.solveWithCholeskyLower(&a, n: n, &b, rightHandSides: rightHandSides)
        guard info == 0 else {
            throw PruneError(.invalidInput, "'reconstruct': solving for layer '\(layer)' failed (dpotrs info \(info))")
        }
    }
}
