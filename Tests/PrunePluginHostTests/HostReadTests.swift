import Foundation
import Logging
import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// What plugins can read from the run through the host table.
@Suite struct HostReadTests {
    @Test func tensorInfoAndOtherTensors() throws {
        let weight = TestModels.parameter("w", [2, 3, 1, 1], [Float](repeating: 1, count: 6))
        let bias = TestModels.parameter("bias", [2], [7, 8])
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"))
        let model = try TestModels.model(weight, bias)
        let values = try registry.makeScorer(ComponentSpec(parsing: "info"))
            .scores(for: .elements(of: weight), in: TestModels.context(model)).values
        // role WEIGHT, output dim 2, input dim 3, rank 4, bias[0] = 7, unit_count 2, stored as F32.
        #expect(values == [1, 2, 3, 4, 7, 2])
    }

    @Test func storedDtypeIsReportedWhileViewsAreFloat32() throws {
        let bytes = [UInt16](repeating: 0x3C00, count: 4).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }  // 1.0
        let weight = Parameter(name: "w", tensor: try Tensor(dtype: .f16, shape: [2, 2], bytes: bytes))
        let bias = TestModels.parameter("bias", [2], [7, 8])
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"))
        let model = try TestModels.model(weight, bias)
        let values = try registry.makeScorer(ComponentSpec(parsing: "info:other=w"))
            .scores(for: .units(of: weight, axis: 0), in: TestModels.context(model)).values
        #expect(values == [1, 2])  // role, output dim — units only have two scores
        let elementValues = try registry.makeScorer(ComponentSpec(parsing: "info:other=w"))
            .scores(for: .elements(of: weight), in: TestModels.context(model)).values
        #expect(elementValues == [1, 2, 2, 2])
    }

    @Test func unknownTensorIsAnErrorWithTheHostsMessage() throws {
        let weight = TestModels.parameter("w", [2, 2], [1, 2, 3, 4])
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"))
        let model = try TestModels.model(weight)
        let error = try #require(throws: PluginError.self) {
            try registry.makeScorer(ComponentSpec(parsing: "info:other=missing"))
                .scores(for: .elements(of: weight), in: TestModels.context(model))
        }
        #expect(error.message.contains("the model has no parameter 'missing'"))
        #expect(error.message.contains("PRUNE_ERR_NOT_FOUND"))
    }

    @Test func declaredStatisticsComeFromTheProvider() throws {
        let weight = TestModels.parameter("w", [2, 2], [1, 2, 3, 4])
        let options = PluginLoadOptions(statistics: { parameter, statistic, _ in
            parameter == "w" && statistic == "input_sq_mean" ? Tensor(shape: [2], values: [0.5, 9]) : nil
        })
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"), options: options)
        let model = try TestModels.model(weight)
        let values = try registry.makeScorer(ComponentSpec(parsing: "stats"))
            .scores(for: .elements(of: weight), in: TestModels.context(model)).values
        #expect(values == [0.5, 9, 0.5, 9])
    }

    @Test func undeclaredOrMissingStatisticsAreErrors() throws {
        let weight = TestModels.parameter("w", [2, 2], [1, 2, 3, 4])
        let model = try TestModels.model(weight)
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"))
        let missing = try #require(throws: PluginError.self) {
            try registry.makeScorer(ComponentSpec(parsing: "stats"))
                .scores(for: .elements(of: weight), in: TestModels.context(model))
        }
        #expect(missing.message.contains("no calibration statistic 'input_sq_mean' for 'w'"))
        let undeclared = try #require(throws: PluginError.self) {
            try registry.makeScorer(ComponentSpec(parsing: "stats:stat=hessian_diag"))
                .scores(for: .elements(of: weight), in: TestModels.context(model))
        }
        #expect(undeclared.message.contains("did not declare statistic 'hessian_diag'"))
    }

    @Test func unitMatrixForBothGranularities() throws {
        let weight = TestModels.parameter("w", [2, 3], [1, 2, 3, 10, 20, 30])
        let (plugin, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"))
        #expect(plugin.components.first { $0.info.name == "stats" }?.statistics == ["input_sq_mean"])
        let model = try TestModels.model(weight)
        let scorer = try registry.makeScorer(ComponentSpec(parsing: "rowsum"))
        #expect(try scorer.scores(for: .units(of: weight, axis: 0), in: TestModels.context(model)).values == [6, 60])
        #expect(
            try scorer.scores(for: .elements(of: weight), in: TestModels.context(model)).values == [
                6, 6, 6, 60, 60, 60,
            ])
    }

    /// Plugins are re-initialised per registry, and scorers can run on several threads at once.
    @Test func concurrentScoringAcrossRegistries() throws {
        let weight = TestModels.parameter("w", [3, 2], [0, 0, 3, 4, 6, 8])
        let model = try TestModels.model(weight)
        let (_, first) = try TestPlugins.load(TestPlugins.fpgm)
        let (_, second) = try TestPlugins.load(TestPlugins.fpgm)
        let scorers = [
            try first.makeScorer(ComponentSpec(name: "fpgm")), try second.makeScorer(ComponentSpec(name: "fpgm")),
        ]
        let context = PruneContext(model: model, threads: 2)
        let results = try ParallelFor.map(64, threads: 2) { i in
            try scorers[i % 2].scores(for: .units(of: weight, axis: 0), in: context).values
        }
        #expect(results.allSatisfy { $0 == [15, 10, 15] })
    }
}
