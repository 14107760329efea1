import PruneKit
@testable import PruneReconstruct
import Testing

/// The exact per-row fit of a fixed mask, and when the OBS sweep chooses an N:M run.
struct ExactFitAndRunChoiceTests {
    /// H = [[2, 1], [1, 2]] (λ = 0). Rows 0 and 1 keep column 0 (one shared factorisation): w₀ = (1, 1) gives
    /// w[0] = (H·w₀)[0] / H[0, 0] = 3 / 2; w₀ = (4, −2) gives 6 / 2 = 3. Row 2 keeps column 1: w₀ = (2, −1) gives
    /// (2 − 2) / 2 = 0.
    @Test func eachRowIsSolvedOnItsKeptColumns() throws {
        let fitted = try ExactRowFit.fit(
            weights: [1, 1, 4, -2, 2, -1], rows: 3, columns: 2, mask: [false, true, false, true, true, false],
            damped: [2, 1, 1, 2], layer: "test")
        #expect(zip(fitted, [1.5, 0, 3, 0, 0, 0]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(fitted)")
    }

    /// Under a diagonal H removing a column changes nothing else, so the exact fit is the mask.
    @Test func aDiagonalHessianKeepsTheSurvivingWeights() throws {
        let fitted = try ExactRowFit.fit(
            weights: [1, 2, 3, 4, 5, 6], rows: 2, columns: 3, mask: [true, false, false, false, true, false],
            damped: [1, 0, 0, 0, 2, 0, 0, 0, 3], layer: "test")
        #expect(zip(fitted, [0, 2, 3, 4, 0, 6]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(fitted)")
    }

    /// Choosing a 2:4 run when the sweep reaches its first column sees the same weights as choosing it at the start
    /// of a block of exactly that run (the lazy block update and the column-by-column update agree): so one block
    /// of 8 with `chooseAtColumn` equals blocks of 4 choosing per block — SparseGPT's definition.
    @Test func choosingAtTheColumnEqualsChoosingPerBlockOfTheRun() throws {
        let (rows, columns) = (3, 8)
        // H = AᵀA + I for a fixed A with coupled columns.
        var a = [Double](repeating: 0, count: 12 * columns)
        var seed: UInt64 = 7
        for i in a.indices {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            a[i] = Double(Int(seed >> 33) % 2001 - 1000) / 1000
        }
        var h = [Double](repeating: 0, count: columns * columns)
        for i in 0..<columns {
            for j in 0..<columns {
                h[i * columns + j] = (0..<12).reduce(0) { $0 + a[$1 * columns + i] * a[$1 * columns + j] } + (i == j ? 1 : 0)
            }
        }
        let factor = try InverseHessianFactor.upperFactor(of: h, n: columns, layer: "test")
        let weights: [Double] = (0..<(rows * columns)).map { Double(($0 * 37) % 11) - 5 }
        let segments = [[0, 1, 2, 3], [4, 5, 6, 7]]
        let pattern = SparsityPattern.chosen(segments: segments, counts: [Int32](repeating: 2, count: rows * 2))
        var atColumn = weights
        let maskAtColumn = SparseOBSSweep.run(
            weights: &atColumn, rows: rows, columns: columns, factor: factor, blockSize: 8, pattern: pattern, threads: 1,
            chooseAtColumn: true)
        var perRunBlock = weights
        let maskPerRunBlock = SparseOBSSweep.run(
            weights: &perRunBlock, rows: rows, columns: columns, factor: factor, blockSize: 4, pattern: pattern,
            threads: 1, chooseAtColumn: false)
        #expect(maskAtColumn == maskPerRunBlock)
        #expect(zip(atColumn, perRunBlock).allSatisfy { abs($0 - $1) < 1e-9 })
        // Every run of every row keeps 2 of 4.
        for r in 0..<rows {
            for segment in segments { #expect(segment.filter { maskAtColumn[r * columns + $0] }.count == 2) }
        }
    }
}
