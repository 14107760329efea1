import PruneCore
import PruneRuntime

#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// Which weights of a rows × columns matrix the OBS sweep removes.
enum SparsityPattern: Sendable {
    /// Exactly these (row-major rows × columns, true = remove).
    case fixed([Bool])
    /// In every row r, `counts[r * segments.count + s]` of the columns `segments[s]` are removed. They are chosen
    /// when the sweep reaches the segment's first column, as the smallest w²/U[c, c]² of the row's current weights
    /// (ties: the lower column first). Segments are disjoint; each lists its columns in increasing order.
    case chosen(segments: [[Int]], counts: [Int32])
}

/// SparseGPT's column sweep: visits the columns of W in order, block by block, and for every removed weight
/// spreads its error over the columns not yet visited with the optimal-brain-surgeon update.
///
/// For column i with U the upper Cholesky factor of the damped H⁻¹ (``InverseHessianFactor``): e = (w_i − q_i) /
/// U[i, i], where q_i is 0 for a removed weight and w_i otherwise, then W[:, j] −= e·U[i, j] for j > i. Inside a
/// block the update is applied column by column; to the columns after the block it is applied once, as one GEMM
/// with the block's errors (the "lazy batch" update), which gives the same result with far fewer passes over W.
/// Rows are independent, so they run in parallel.
enum SparseOBSSweep {
    /// Sweeps `weights` (row-major rows × columns) in place and returns the removal mask that was applied.
    /// With `chooseAtColumn`, a `.chosen` segment is chosen when the sweep reaches its first column (after the
    /// updates of every earlier column, as SparseGPT chooses N:M runs); otherwise when the sweep reaches the block
    /// that holds its first column.
    static func run(
        weights: inout [Double], rows: Int, columns: Int, factor: [Double], blockSize: Int,
        pattern: SparsityPattern, threads: Int, chooseAtColumn: Bool = false
    ) -> [Bool] {
        precondition(weights.count == rows * columns && factor.count == columns * columns && blockSize >= 1)
        var mask: [Bool]
        let blockCount = (columns + blockSize - 1) / blockSize
        var segmentsStartingInBlock = [[Int]](repeating: [], count: blockCount)
        switch pattern {
        case .fixed(let fixed):
            precondition(fixed.count == rows * columns)
            mask = fixed
        case .chosen(let segments, let counts):
            precondition(counts.count == rows * segments.count)
            mask = [Bool](repeating: false, count: rows * columns)
            for (index, segment) in segments.enumerated() where !segment.isEmpty {
                segmentsStartingInBlock[segment[0] / blockSize].append(index)
            }
        }
        var segmentsStartingAt = [[Int]](repeating: [], count: chooseAtColumn ? columns : 0)
        if chooseAtColumn, case .chosen(let segments, _) = pattern {
            for (index, segment) in segments.enumerated() where !segment.isEmpty {
                segmentsStartingAt[segment[0]].append(index)
            }
            segmentsStartingInBlock = segmentsStartingInBlock.map { _ in [] }
        }
        let starting = segmentsStartingInBlock
        let startingAt = segmentsStartingAt
        let (segments, counts): ([[Int]], [Int32]) =
            if case .chosen(let segments, let counts) = pattern { (segments, counts) } else { ([], []) }
        var errors = [Double](repeating: 0, count: rows * blockSize)
        for block in 0..<blockCount {
            let start = block * blockSize
            let end = min(start + blockSize, columns)
            weights.withUnsafeMutableBufferPointer { w in
                mask.withUnsafeMutableBufferPointer { m in
                    errors.withUnsafeMutableBufferPointer { e in
                        factor.withUnsafeBufferPointer { u in
                            let (w, m, e) = (
                                SharedPointer(w.baseAddress!), SharedPointer(m.baseAddress!), SharedPointer(e.baseAddress!)
                            )
                            let factorPointer = SharedPointer(UnsafeMutablePointer(mutating: u.baseAddress!))
                            ParallelFor.run(rows, threads: rows >= 64 ? threads : 1) { r in
                                let u = UnsafePointer(factorPointer.pointer)
                                for s in starting[block] {
                                    choose(
                                        count: Int(counts[r * segments.count + s]), of: segments[s], row: r,
                                        columns: columns, weights: w.pointer, factor: u, mask: m.pointer)
                                }
                                let row = w.pointer + r * columns
                                let rowMask = m.pointer + r * columns
                                let rowErrors = e.pointer + r * blockSize
                                for i in start..<end {
                                    if chooseAtColumn {
                                        for s in startingAt[i] {
                                            choose(
                                                count: Int(counts[r * segments.count + s]), of: segments[s], row: r,
                                                columns: columns, weights: w.pointer, factor: u, mask: m.pointer)
                                        }
                                    }
                                    let value = row[i]
                                    let error = rowMask[i] ? value / u[i * columns + i] : 0
                                    rowErrors[i - start] = error
                                    guard error != 0 else { continue }
                                    row[i] = 0
                                    let uRow = u + i * columns
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
        return mask
    }

    /// GPTQ's lazy batch update, shared by the sparse and the quantised sweeps: carries one block's scaled errors
    /// `errors` (rows × `blockSize`, row-major) to every column after the block, W[:, end…] −= E · U[block, end…].
    static func propagate(
        _ errors: [Double], into weights: inout [Double], factor: [Double], rows: Int, columns: Int,
        block: Range<Int>, blockSize: Int
    ) {
        let (start, end) = (block.lowerBound, block.upperBound)
        weights.withUnsafeMutableBufferPointer { w in
            factor.withUnsafeBufferPointer { u in
                cblas_dgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(columns - end), Int32(end - start),
                    -1, errors, Int32(blockSize), u.baseAddress! + start * columns + end, Int32(columns), 1,
                    w.baseAddress! + end, Int32(columns))
            }
        }
    }

    /// Marks the `count` columns of `segment` with the smallest w²/U[c, c]² in row `row`.
    private static func choose(
        count: Int, of segment: [Int], row: Int, columns: Int, weights: UnsafeMutablePointer<Double>,
        factor: UnsafePointer<Double>, mask: UnsafeMutablePointer<Bool>
    ) {
        guard count > 0 else { return }
        let base = row * columns
        guard count < segment.count else {
            for c in segment { mask[base + c] = true }
            return
        }
        var ranked = segment.map { c -> (score: Double, column: Int) in
            let w = weights[base + c]
            let d = factor[c * columns + c]
            return (w * w / (d * d), c)
        }
        ranked.sort { ($0.score, $0.column) < ($1.score, $1.column) }
        for k in 0..<count { mask[base + ranked[k].column] = true }
    }
}
