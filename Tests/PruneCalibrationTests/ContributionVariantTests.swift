import Foundation
import PruneKit
import Testing

/// `contribution:exact=true` and `contribution:centered=true` on hand-made statistics, against values computed by
/// hand (and checked with NumPy, as in the comments).
struct ContributionVariantTests {
    // Four calibration rows of four features; two heads of d = 2 (features 0-1 and 2-3):
    //   (1, 1, 2, -1), (-1, -1, -2, 2), (1, 1, 2, -2), (-1, -1, -2, 1)
    // Σx²: [4, 4, 16, 10]; within head 0 Σx0·x1 = 4, within head 1 Σx2·x3 = -2-4-4-2 = -12; Σx = 0 everywhere.
    private static let rows: [[Double]] = [[1, 1, 2, -1], [-1, -1, -2, 2], [1, 1, 2, -2], [-1, -1, -2, 1]]
    // The consumer (PyTorch layout [out, in]) reads x through W = [[1, 1, 1, 1], [0, 1, 0, 1]]:
    // ‖W_j‖² = [1, 2, 1, 2], ⟨W_0, W_1⟩ = ⟨W_2, W_3⟩ = 1.
    private let weights = Tensor(shape: [2, 4], values: [1, 1, 1, 1, 0, 1, 0, 1])

    /// Statistics of `rows` with block moments of width 2 (Σ over the rows of each within-block product).
    private static func statistics(of rows: [[Double]]) -> InputFeatureStatistics {
        var squares = [Double](repeating: 0, count: 4)
        var sums = [Double](repeating: 0, count: 4)
        var blocks = [Double](repeating: 0, count: 8)
        for x in rows {
            for j in 0..<4 {
                squares[j] += x[j] * x[j]
                sums[j] += x[j]
            }
            for b in 0..<2 {
                for r in 0..<2 { for c in 0..<2 { blocks[b * 4 + r * 2 + c] += x[b * 2 + r] * x[b * 2 + c] } }
            }
        }
        return InputFeatureStatistics(
            squareSums: squares, count: rows.count, sums: sums, blockMoments: BlockMoments(width: 2, values: blocks))
    }

    private func context(_ inputs: InputFeatureStatistics, weights: Tensor? = nil) throws -> PruneContext {
        let model = try Model(parameters: [Parameter(name: "w", tensor: weights ?? self.weights, layout: .pytorch)])
        return PruneContext(model: model, statistics: CalibrationStatistics(inputs: ["w": inputs]))
    }

    private func heads(_ context: PruneContext) -> PruneTarget {
        .group(named: "heads", units: 2, slices: [UnitSlice(parameter: "w", axis: 1, width: 2)])
    }

    @Test func theHandStatisticsAreWhatTheCommentsSay() {
        let inputs = Self.statistics(of: Self.rows)
        #expect(inputs.squareSums == [4, 4, 16, 10])
        #expect(inputs.blockMoments?.values == [4, 4, 4, 4, 16, -12, -12, 10])
        #expect(inputs.secondMoment(2, 3) == -3)
        #expect(inputs.secondMoment(1, 2) == nil)
    }

    @Test func exactScoresFollowTheCorrelationsAndReorderTheHeads() throws {
        let context = try context(Self.statistics(of: Self.rows))
        // Diagonal: head 0: 1·1 + 1·2 = 3; head 1: 4·1 + 2.5·2 = 9 → [√3, 3]: head 1 looks more important.
        let diagonal = try ContributionScorer().scores(for: heads(context), in: context).values
        #expect(abs(diagonal[0] - Float(3).squareRoot()) < 1e-5 && abs(diagonal[1] - 3) < 1e-5)
        // Exact: trace(G·P) with P = [[1, 1], [1, 2]]: head 0 G = [[1, 1], [1, 1]] → 5; head 1 G = [[4, -3],
        // [-3, 2.5]] → 4 - 3 - 3 + 5 = 3. Directly: head 0 adds (x0 + x1, x1) = ±(2, 1) to the output (energy 5 on
        // every row); head 1 adds (x2 + x3, x3) = (1, -1), (0, 2), (0, -2), (-1, 1) (mean energy 3). NumPy:
        // np.sqrt(((X[:, J] @ W[:, J].T)**2).sum(1).mean()) = 2.2360680, 1.7320508.
        let exact = try ContributionScorer(exact: true).scores(for: heads(context), in: context).values
        #expect(abs(exact[0] - Float(5).squareRoot()) < 1e-5 && abs(exact[1] - Float(3).squareRoot()) < 1e-5)
        #expect(exact[0] > exact[1] && diagonal[0] < diagonal[1])
    }

    @Test func exactWithoutBlockMomentsSaysWhatIsMissing() throws {
        var inputs = Self.statistics(of: Self.rows)
        inputs.blockMoments = nil
        let context = try context(inputs)
        let error = #expect(throws: PruneError.self) {
            try ContributionScorer(exact: true).scores(for: heads(context), in: context)
        }
        #expect(error?.message.contains("in blocks of 2 features") == true)
    }

    @Test func widthOneUnitsScoreTheSameExactOrNot() throws {
        // No block moments are needed for neurons: the diagonal is the whole block.
        var inputs = Self.statistics(of: Self.rows)
        inputs.blockMoments = nil
        let context = try context(inputs)
        let neurons = PruneTarget.units(of: context.model["w"]!, axis: 1)
        let old = try ContributionScorer().scores(for: neurons, in: context).values
        // sqrt(E[x_j²]·‖W_j‖²) = sqrt([1·1, 1·2, 4·1, 2.5·2]).
        let expected: [Float] = [1, Float(2).squareRoot(), 2, Float(5).squareRoot()]
        #expect(zip(old, expected).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(try ContributionScorer(exact: true).scores(for: neurons, in: context).values == old)
    }

    @Test func centeredScoresByTheVarianceNotTheMean() throws {
        // Feature 0 is 10, 10.2, 9.8, 10 (mean 10, variance 0.02); feature 1 is 1, -1, 1, -1 (mean 0, variance 1).
        // Σx0² = 100 + 104.04 + 96.04 + 100 = 400.08, Σx0 = 40; Σx1² = 4, Σx1 = 0. W = [[1, 1]].
        let inputs = InputFeatureStatistics(squareSums: [400.08, 4], count: 4, sums: [40, 0])
        let context = try context(inputs, weights: Tensor(shape: [1, 2], values: [1, 1]))
        let neurons = PruneTarget.units(of: context.model["w"]!, axis: 1)
        // Raw: sqrt(100.02) = 10.0010, 1; centered: sqrt(0.02) = 0.141421 (NumPy np.sqrt(x.var())), 1.
        let raw = try ContributionScorer().scores(for: neurons, in: context).values
        #expect(abs(raw[0] - 10.001) < 1e-4 && abs(raw[1] - 1) < 1e-6)
        let centered = try ContributionScorer(centered: true).scores(for: neurons, in: context).values
        #expect(abs(centered[0] - 0.141421) < 1e-5 && abs(centered[1] - 1) < 1e-6)
        // Without sums the variance is unknown.
        let bare = try self.context(
            InputFeatureStatistics(squareSums: [400.08, 4], count: 4), weights: Tensor(shape: [1, 2], values: [1, 1]))
        #expect(throws: PruneError.self) { try ContributionScorer(centered: true).scores(for: neurons, in: bare) }
    }

    @Test func centeredExactUsesTheBlockCovariance() throws {
        // Shift head 0's features by +5 and +3: the second moments grow, the covariance does not.
        let shifted = Self.rows.map { [$0[0] + 5, $0[1] + 3, $0[2], $0[3]] }
        let context = try context(Self.statistics(of: shifted))
        let raw = try ContributionScorer(exact: true).scores(for: heads(context), in: context).values
        // Raw head 0: G = [[26, 16], [16, 10]] (E[(x0+5)²] = 1 + 25, E[(x0+5)(x1+3)] = 1 + 15, E[(x1+3)²] = 1 + 9),
        // trace(G·P) = 26 + 16 + 16 + 20 = 78.
        #expect(abs(raw[0] - Float(78).squareRoot()) < 1e-4)
        let centered = try ContributionScorer(exact: true, centered: true).scores(for: heads(context), in: context)
        #expect(abs(centered.values[0] - Float(5).squareRoot()) < 1e-5)
        #expect(abs(centered.values[1] - Float(3).squareRoot()) < 1e-5)
    }

    @Test func mergingBatchesIsExact() {
        var first = Self.statistics(of: Array(Self.rows[0..<2]))
        first.merge(Self.statistics(of: Array(Self.rows[2...])))
        #expect(first == Self.statistics(of: Self.rows))
        // A batch without sums or block moments drops them: they would no longer cover every position.
        var partial = Self.statistics(of: Self.rows)
        partial.merge(InputFeatureStatistics(squareSums: [1, 1, 1, 1], count: 1))
        #expect(partial.sums == nil && partial.blockMoments == nil && partial.count == 5)
    }

    @Test func sumsAndBlockMomentsSurviveASaveAndFilesWithoutThemStillLoad() throws {
        let full = CalibrationStatistics(inputs: ["w": Self.statistics(of: Self.rows)], batches: 2)
        let url = FileManager.default.temporaryDirectory.appending(path: "stats-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try StatisticsFile.save(full, to: url, overwrite: false)
        #expect(try StatisticsFile.load(url) == full)
        #expect(try StatisticsFile.load(url).kinds.contains(.inputMeans))
        // A file as written before sums and block moments existed: only square sums and count/groups tensors.
        var old = Self.statistics(of: Self.rows)
        (old.sums, old.blockMoments) = (nil, nil)
        let oldURL = FileManager.default.temporaryDirectory.appending(path: "stats-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: oldURL) }
        try StatisticsFile.save(CalibrationStatistics(inputs: ["w": old]), to: oldURL, overwrite: false)
        let loaded = try StatisticsFile.load(oldURL)
        #expect(loaded.inputs["w"] == old && !loaded.kinds.contains(.inputMeans))
    }

    @Test func theRegistryParsesTheParameters() throws {
        let registry = ComponentRegistry.standard()
        let scorer = try registry.makeScorer(ComponentSpec(parsing: "contribution:exact=true,centered=true"))
        let contribution = try #require(scorer as? ContributionScorer)
        #expect(contribution.exact && contribution.centered)
        #expect(contribution.dataNeeds.statistics.required.contains(.inputMeans))
    }
}
