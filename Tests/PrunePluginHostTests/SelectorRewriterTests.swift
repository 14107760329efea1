import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// Plugin selectors and rewriters, alone and in a pipeline next to a plugin scorer.
@Suite struct SelectorRewriterTests {
    private let weight = TestModels.parameter("w", [3, 2], [0, 0, 3, 4, 6, 8], layout: .pytorch)
    private let kept = TestModels.parameter("keep.w", [2, 2], [1, 2, 3, 4])

    private func registry() throws -> ComponentRegistry {
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("selector_rewriter"))
        try TestPlugins.load(TestPlugins.fpgm, into: registry)
        return registry
    }

    @Test func thresholdSelectorMarksAndSkips() throws {
        let model = try TestModels.model(weight, kept)
        let scored = [
            ScoredTarget(
                target: .elements(of: weight), scores: Scores([1, 5, 2, 6, 9, 0]), shape: [3, 2], layout: .pytorch),
            ScoredTarget(target: .elements(of: kept), scores: Scores([0, 0, 0, 0]), shape: [2, 2], layout: .pytorch),
        ]
        let selection = try registry().makeSelector(ComponentSpec(parsing: "cut:tau=2.5"))
            .select(scored, in: TestModels.context(model))
        #expect(selection.entries.count == 2)
        #expect(selection.entries[0].decision == .prune(Mask(count: 6, setting: [0, 2, 5])))
        #expect(selection.entries[1].decision == .skip(reason: "names starting with keep are kept"))
    }

    @Test func rewriterZeroesUnitsAcrossSlices() throws {
        let next = TestModels.parameter("v", [1, 3], [1, 2, 3])
        let model = try TestModels.model(weight, next)
        let group = PruneTarget.group(
            named: "block", units: 3, slices: [UnitSlice(parameter: "w", axis: 0), UnitSlice(parameter: "v", axis: 1)])
        let selection = Selection(entries: [
            Selection.Entry(target: group, decision: .prune(Mask(count: 3, setting: [1])))
        ])
        let result = try registry().makeRewriter(ComponentSpec(parsing: "zero-scale:scale=2"))
            .rewrite(model, applying: selection, in: TestModels.context(model)).model
        #expect(try result.parameter(named: "w").tensor.floatValues() == [0, 0, 0, 0, 12, 16])
        #expect(try result.parameter(named: "v").tensor.floatValues() == [2, 0, 6])
        #expect(try model.parameter(named: "w").tensor.floatValues() == [0, 0, 3, 4, 6, 8])
    }

    @Test func rewriterKeepsTheStoredDtype() throws {
        let halves: [UInt16] = [0x3C00, 0x4000, 0x4200, 0x4400]  // 1, 2, 3, 4
        let half = Parameter(
            name: "h",
            tensor: try Tensor(
                dtype: .f16, shape: [2, 2], bytes: halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        let model = try TestModels.model(half)
        let selection = Selection(entries: [
            Selection.Entry(target: .elements(of: half), decision: .prune(Mask(count: 4, setting: [3])))
        ])
        let result = try registry().makeRewriter(ComponentSpec(parsing: "zero-scale:scale=0.5"))
            .rewrite(model, applying: selection, in: TestModels.context(model)).model
        let tensor = try result.parameter(named: "h").tensor
        #expect(tensor.dtype == .f16)
        #expect(tensor.floatValues() == [0.5, 1, 1.5, 0])
    }

    /// The same `NAME:key=value` specs as built-ins, resolved through the registry into a pipeline stage.
    @Test func pluginComponentsRunInAPipeline() throws {
        let model = try TestModels.model(weight, kept)
        let stage = try Stage(
            targets: TargetFilter(exclude: ["^keep"], granularity: .unit), scorer: ComponentSpec(parsing: "fpgm:p=2"),
            selector: ComponentSpec(parsing: "cut:tau=12"), rewriter: ComponentSpec(parsing: "zero-scale"),
            registry: registry())
        let result = try Pipeline([stage]).run(on: model, context: TestModels.context(model))
        // FPGM unit scores (15, 10, 15): only the geometric median (unit 1) is below 12.
        #expect(try result.model.parameter(named: "w").tensor.floatValues() == [0, 0, 0, 0, 6, 8])
        #expect(try result.model.parameter(named: "keep.w").tensor.floatValues() == [1, 2, 3, 4])
        #expect(result.stages.first?.description.scorer == "fpgm:p=2")
    }
}
