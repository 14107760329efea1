#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// H = XᵀX of a layer's input, accumulated over calibration batches in double precision.
struct Hessian {
    /// The number of input features (the side of H).
    let size: Int
    /// Row-major size × size; only the upper triangle is kept up to date until ``symmetric`` is read.
    private var upper: [Double]
    /// Rows of X seen so far.
    private(set) var rows = 0

    init(size: Int) {
        self.size = size
        upper = [Double](repeating: 0, count: size * size)
    }

    /// Adds `count` rows of X (row-major count × size).
    mutating func add(_ x: [Double], count: Int) {
        precondition(x.count == count * size)
        guard count > 0, size > 0 else { return }
        let n = Int32(size)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, Int32(count), 1, x, n, 1, &upper, n)
        rows += count
    }

    /// The full symmetric matrix.
    var symmetric: [Double] {
        var full = upper
        for i in 0..<size {
            for j in 0..<i { full[i * size + j] = full[j * size + i] }
        }
        return full
    }

    /// Σ_r δ_r·H·δ_rᵀ over the rows of `deltas` (row-major rows × size) for the full matrix `h`: the squared output
    /// change ‖X·δᵀ‖²_F that replacing the weights by weights + δ causes on the calibration data.
    static func outputSquares(of deltas: [Double], rows: Int, h: [Double], size: Int) -> Double {
        guard rows > 0, size > 0 else { return 0 }
        var product = [Double](repeating: 0, count: rows * size)
        let n = Int32(size)
        cblas_dgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), n, n, 1, deltas, n, h, n, 0, &product, n)
        var total = 0.0
        for index in product.indices { total += product[index] * deltas[index] }
        return max(0, total)
    }
}
