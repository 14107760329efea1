import Foundation
import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// The KMeans example plugin (Swift) on well-separated clusters, against scores worked out independently.
///
/// Four near-duplicates around (10.05, 10.05), a pair around (−10, 0.1) and a lone unit at (0, −10). With k = 3
/// each group is a cluster. A member of a cluster of n ≥ 2 scores n/(n−1)·‖x − c‖; the lone unit scores its
/// distance to the nearest other centroid.
@Suite struct KMeansTests {
    private let rows: [[Float]] = [
        [10, 10], [-10, 0], [10.1, 10], [0, -10], [10, 10.1], [-10, 0.2], [10.1, 10.1],
    ]

    private var weight: Parameter { TestModels.parameter("w", [7, 2], rows.flatMap { $0 }) }

    private func scores(_ spec: String, target: PruneTarget? = nil, seed: UInt64 = 0) throws -> [Float] {
        let (_, registry) = try TestPlugins.load(TestPlugins.kmeans)
        let model = try TestModels.model(weight)
        return try registry.makeScorer(ComponentSpec(parsing: spec))
            .scores(for: target ?? .units(of: weight, axis: 0), in: TestModels.context(model, seed: seed)).values
    }

    private func expected() -> [Double] {
        let big = (x: 10.05, y: 10.05)
        let pair = (x: -10.0, y: 0.1)
        func distance(_ p: [Float], _ c: (x: Double, y: Double)) -> Double {
            ((Double(p[0]) - c.x) * (Double(p[0]) - c.x) + (Double(p[1]) - c.y) * (Double(p[1]) - c.y)).squareRoot()
        }
        return rows.map { row in
            if row[0] > 5 { return 4.0 / 3.0 * distance(row, big) }
            if row[0] < -5 { return 2.0 * distance(row, pair) }
            return min(distance(row, big), distance(row, pair))
        }
    }

    @Test func scoresFollowClusterSizeAndDistance() throws {
        let values = try scores("kmeans:k=3,seed=7")
        for (value, want) in zip(values, expected()) {
            #expect(abs(Double(value) - want) < 1e-4 * max(1, want))
        }
        // The near-duplicates of the big cluster go first, the lone unit last.
        let order = values.indices.sorted { values[$0] < values[$1] }
        #expect(Set(order.prefix(4)) == [0, 2, 4, 6])
        #expect(order.last == 3)
    }

    @Test func sameSeedSameScoresAndRunSeedIsUsedByDefault() throws {
        let first = try scores("kmeans:k=3", seed: 42)
        let second = try scores("kmeans:k=3", seed: 42)
        #expect(first == second)
        for (value, want) in zip(first, expected()) { #expect(abs(Double(value) - want) < 1e-4 * max(1, want)) }
    }

    @Test func moreClustersThanUnitsMakesEveryUnitALoner() throws {
        let values = try scores("kmeans:k=50,seed=1")
        // Each unit's distance to its nearest other unit: 0.1 in the big cluster, 0.2 in the pair, and √200 from
        // the loner (0, −10) to (−10, 0).
        #expect(abs(values[0] - 0.1) < 1e-4)
        #expect(abs(values[1] - 0.2) < 1e-4)
        #expect(abs(Double(values[3]) - 200.0.squareRoot()) < 1e-4)
    }

    @Test func elementTargetsGetTheirUnitsScore() throws {
        let unitScores = try scores("kmeans:k=3,seed=7")
        let elementScores = try scores("kmeans:k=3,seed=7", target: .elements(of: weight))
        #expect(elementScores == unitScores.flatMap { [$0, $0] })
    }

    @Test func parametersAreChecked() throws {
        let (_, registry) = try TestPlugins.load(TestPlugins.kmeans)
        let error = try #require(throws: PruneError.self) {
            try registry.makeScorer(ComponentSpec(parsing: "kmeans:k=0"))
        }
        #expect(error.kind == .invalidParameter)
        #expect(error.message.contains("'k'"))
        #expect(error.message.contains("libPruneKMeans"))
    }
}
