import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// The FPGM example plugin (C), against distances worked out by hand.
///
/// Units w0 = (0,0), w1 = (3,4), w2 = (6,8): d01 = 5, d02 = 10, d12 = 5 (L2) and 7, 14, 7 (L1), so the sums are
/// (15, 10, 15) and (21, 14, 21). The middle unit is the geometric median and scores lowest.
@Suite struct FPGMTests {
    private let weight = TestModels.parameter("w", [3, 2], [0, 0, 3, 4, 6, 8])

    private func scorer(_ spec: String) throws -> any Scorer {
        let (_, registry) = try TestPlugins.load(TestPlugins.fpgm)
        return try registry.makeScorer(ComponentSpec(parsing: spec))
    }

    @Test func describesItself() throws {
        let (plugin, registry) = try TestPlugins.load(TestPlugins.fpgm)
        #expect(plugin.name == "fpgm")
        #expect(plugin.license == "Apache-2.0")
        #expect(plugin.abiMajor == 1)
        let info = try #require(registry.info(.scorer, named: "fpgm"))
        #expect(info.signature.description == "p:f64[1..]=2")  // declared as [1..inf]
        #expect(info.version == "1.0.0")
    }

    @Test func unitScoresAreSumsOfL2Distances() throws {
        let model = try TestModels.model(weight)
        let scores = try scorer("fpgm").scores(for: .units(of: weight, axis: 0), in: TestModels.context(model))
        #expect(scores.values == [15, 10, 15])
    }

    @Test func pParameterSelectsTheNorm() throws {
        let model = try TestModels.model(weight)
        let l1 = try scorer("fpgm:p=1").scores(for: .units(of: weight, axis: 0), in: TestModels.context(model))
        #expect(l1.values == [21, 14, 21])
        let linf = try scorer("fpgm:p=inf").scores(for: .units(of: weight, axis: 0), in: TestModels.context(model))
        #expect(linf.values == [12, 8, 12])  // L∞: d01 = 4, d02 = 8, d12 = 4
    }

    @Test func elementTargetsGetTheirUnitsScore() throws {
        let model = try TestModels.model(weight)
        let scores = try scorer("fpgm").scores(for: .elements(of: weight), in: TestModels.context(model))
        #expect(scores.values == [15, 15, 10, 10, 15, 15])
    }

    /// With the output axis second ([in, out], as ONNX MatMul weights are), units are columns.
    @Test func elementTargetsFollowTheOutputAxis() throws {
        let transposed = TestModels.parameter(
            "wt", [2, 3], [0, 3, 6, 0, 4, 8], layout: WeightLayout(outputAxis: 1, inputAxis: 0))
        let model = try TestModels.model(transposed)
        let scores = try scorer("fpgm").scores(for: .elements(of: transposed), in: TestModels.context(model))
        #expect(scores.values == [15, 10, 15, 15, 10, 15])
    }

    /// A group couples each unit's row of `w` with its column of the next layer's `v`: unit vectors become
    /// (0,0,0), (3,4,12), (6,8,0), so d01 = 13, d02 = 10, d12 = 13.
    @Test func groupTargetsConcatenateSlices() throws {
        let next = TestModels.parameter("v", [1, 3], [0, 12, 0])
        let model = try TestModels.model(weight, next)
        let group = PruneTarget.group(
            named: "block", units: 3,
            slices: [UnitSlice(parameter: "w", axis: 0), UnitSlice(parameter: "v", axis: 1)])
        let scores = try scorer("fpgm").scores(for: group, in: TestModels.context(model))
        #expect(scores.values == [23, 26, 23])
    }

    @Test func convolutionUnitsUseWholeFilters() throws {
        // 3 filters of shape [1, 1, 2]: the same points as above.
        let conv = TestModels.parameter("conv", [3, 1, 1, 2], [0, 0, 3, 4, 6, 8])
        let model = try TestModels.model(conv)
        let scores = try scorer("fpgm").scores(for: .units(of: conv, axis: 0), in: TestModels.context(model))
        #expect(scores.values == [15, 10, 15])
    }

    @Test func vectorsWithoutAnOutputAxisAreAnErrorNamingThePlugin() throws {
        let bias = TestModels.parameter("bias", [3], [1, 2, 3])
        let model = try TestModels.model(bias)
        let error = try #require(throws: PluginError.self) {
            try scorer("fpgm").scores(for: .elements(of: bias), in: TestModels.context(model))
        }
        #expect(error.kind == .callFailed)
        #expect(error.message.contains("scorer 'fpgm' of plugin 'fpgm'"))
        #expect(error.message.contains("output axis"))
        #expect(error.message.contains("PRUNE_ERR_UNSUPPORTED"))
    }

    @Test func float16WeightsAreConvertedForThePlugin() throws {
        let halves: [UInt16] = [0x0000, 0x0000, 0x4200, 0x4400, 0x4600, 0x4800]  // 0, 0, 3, 4, 6, 8
        let bytes = halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let half = Parameter(name: "h", tensor: try Tensor(dtype: .f16, shape: [3, 2], bytes: bytes))
        let model = try TestModels.model(half)
        let scores = try scorer("fpgm").scores(for: .units(of: half, axis: 0), in: TestModels.context(model))
        #expect(scores.values == [15, 10, 15])
    }
}
