import PruneCore

/// The upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU) that the OBS sweep reads row by row, computed without forming H⁻¹.
///
/// With P the order-reversing permutation, factor P·H·P = L·Lᵀ (`dpotrf`); then H⁻¹ = P·L⁻ᵀ·L⁻¹·P = UᵀU with
/// U = P·L⁻¹·P, which is upper triangular because reversing the rows and columns of the lower triangular L⁻¹ makes
/// it upper. So one Cholesky factorisation and one triangular inverse (`dtrtri`) give U directly; SparseGPT's
/// reference code instead inverts H densely and factors the inverse again.
///
/// Row i of U is what the sweep needs at column i. With F = {i, …, n−1} the columns not yet visited and H_F the
/// Hessian restricted to them, U[i, i]² = [H_F⁻¹]ᵢᵢ (the OBS denominator) and U[i, i…] = [H_F⁻¹]ᵢ,· / U[i, i], so the
/// OBS update of removing wᵢ is w_F −= (wᵢ / U[i, i])·U[i, i…].
enum InverseHessianFactor {
    /// U (row-major n×n, zeros below the diagonal) for the symmetric positive definite `hessian` (row-major n×n).
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming `layer` when the matrix is not positive definite.
    static func upperFactor(of hessian: [Double], n: Int, layer: String) throws -> [Double] {
        precondition(hessian.count == n * n)
        guard n > 0 else { return [] }
        // Reversed, in column-major order: element (i, j) of P·H·P is H[n−1−i, n−1−j]; H is symmetric, so the
        // row/column-major distinction does not matter.
        var reversed = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n { reversed[i + j * n] = hessian[(n - 1 - i) * n + (n - 1 - j)] }
        }
        var info = LAPACK.choleskyLower(&reversed, n: n)
        guard info == 0 else {
            throw PruneError(
                .invalidInput,
                "'reconstruct': the damped Hessian of layer '\(layer)' is not positive definite "
                    + "(LAPACK dpotrf info \(info)); raise damp")
        }
        info = LAPACK.invertLowerTriangle(&reversed, n: n)
        guard info == 0 else {
            throw PruneError(
                .invalidInput, "'reconstruct': inverting the Cholesky factor of layer '\(layer)' failed (dtrtri info \(info))")
        }
        // U[i, j] = L⁻¹[n−1−i, n−1−j], non-zero for i ≤ j (then n−1−i ≥ n−1−j: L⁻¹'s lower triangle).
        var upper = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n { upper[i * n + j] = reversed[(n - 1 - i) + (n - 1 - j) * n] }
        }
        return upper
    }
}
