import PruneCore
import PruneRuntime

#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// GPTQ's column sweep: visits the columns of W in order, block by block, replaces each weight by its quantised
/// value (0 where `removed` is set — SparseGPT's joint sparse + quantised mode) and spreads the difference over the
/// columns not yet visited with the optimal-brain-surgeon update.
///
/// For column i with U the upper Cholesky factor of the damped H⁻¹ (``InverseHessianFactor``): q_i = quantise(w_i)
/// (or 0), e = (w_i − q_i) / U[i, i], w_i ← q_i, then W[:, j] −= e·U[i, j] for j > i — ``SparseOBSSweep``'s update
/// with a non-zero target. Inside a block the update is applied column by column; to the columns after the block
/// once, as one GEMM (the "lazy batch" update). Rows are independent and run in parallel.
enum QuantizedOBSSweep {
    /// Sweeps `weights` (row-major rows × columns) in place; `quantize(row, column, value)` returns the quantised
    /// value of one weight (a level of that weight's scale).
    static func run(
        weights: inout [Double], rows: Int, columns: Int, factor: [Double], blockSize: Int, removed: [Bool],
        threads: Int, quantize: @Sendable (Int, Int, Double) -> Double
    ) {
        precondition(weights.count == rows * columns && factor.count == columns * columns && blockSize >= 1)
        precondition(removed.count == rows * columns)
        var errors = [Double](repeating: 0, count: rows * blockSize)
        let blockCount = (columns + blockSize - 1) / blockSize
        for block in 0..<blockCount {
            let start = block * blockSize
            let end = min(start + blockSize, columns)
            weights.withUnsafeMutableBufferPointer { w in
                errors.withUnsafeMutableBufferPointer { e in
                    factor.withUnsafeBufferPointer { u in
                        removed.withUnsafeBufferPointer { m in
                            let (w, e) = (SharedPointer(w.baseAddress!), SharedPointer(e.baseAddress!))
                            let u = SharedPointer(UnsafeMutablePointer(mutating: u.baseAddress!))
                            let m = SharedPointer(UnsafeMutablePointer(mutating: m.baseAddress!))
                            ParallelFor.run(rows, threads: rows >= 64 ? threads : 1) { r in
                                let factor = UnsafePointer(u.pointer)
                                let row = w.pointer + r * columns
                                let rowRemoved = m.pointer + r * columns
                                let rowErrors = e.pointer + r * blockSize
                                for i in start..<end {
                                    let value = row[i]
                                    let target = rowRemoved[i] ? 0 : quantize(r, i, value)
                                    let error = (value - target) / factor[i * columns + i]
                                    rowErrors[i - start] = error
                                    row[i] = target
                                    guard error != 0 else { continue }
                                    let uRow = factor + i * columns
                                    for j in (i + 1)..<end { row[j] -= error * uRow[j] }
                                }
                            }
                        }
                    }
                }
            }
            guard end < columns else { continue }
            SparseOBSSweep.propagate(
                errors, into: &weights, factor: factor, rows: rows, columns: columns, block: start..<end,
                blockSize: blockSize)
        }
    }
}
