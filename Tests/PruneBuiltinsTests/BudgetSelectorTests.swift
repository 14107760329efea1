import PruneKit
import Testing

/// The selectors budgets write (`targets`) and OWL's outlier-weighted layer sparsity, on hand-derived cases.
@Suite("Per-target and outlier-weighted selectors")
struct BudgetSelectorTests {
    private func run(_ parameters: [Parameter], scorer: String = "magnitude", selector: String) throws -> Model {
        let model = try Model(parameters: parameters)
        let stage = try Stage(
            targets: TargetFilter(), scorer: ComponentSpec(parsing: scorer), selector: ComponentSpec(parsing: selector),
            rewriter: ComponentSpec(parsing: "mask"), registry: .standard())
        return try Pipeline([stage]).run(on: model, context: PruneContext(model: model, threads: 2)).model
    }

    private func weight(_ name: String, _ shape: [Int], _ values: [Float]) -> Parameter {
        Parameter(name: name, tensor: Tensor(shape: shape, values: values), layout: .pytorch)
    }

    @Test func eachNamedTargetLosesItsOwnFraction() throws {
        // a: 4 × 0.5 = 2 smallest |w| (1 and 2) go; b: 4 × 0.25 = 1 (the 0.1); c is not named: default 0.
        let model = try run(
            [
                weight("a", [2, 2], [4, 1, 3, 2]), weight("b", [1, 4], [0.1, 5, 6, 7]),
                weight("c", [1, 2], [0.01, 0.02]),
            ], selector: "targets:sparsities=a=0.5;b=0.25")
        #expect(model["a"]!.tensor.floatValues() == [4, 0, 3, 0])
        #expect(model["b"]!.tensor.floatValues() == [0, 5, 6, 7])
        #expect(model["c"]!.tensor.floatValues() == [0.01, 0.02])
    }

    @Test func theTableRoundTripsThroughItsTextAndRefusesWhatItCannotCarry() throws {
        let table = ["/blocks.0/Conv": 0.25, "onnx::Conv_12": 0.5, "x=y": 0.125]
        let text = try TargetSparsitySelector.text(table)
        #expect(text == "/blocks.0/Conv=0.25;onnx::Conv_12=0.5;x=y=0.125")
        #expect(try TargetSparsitySelector(parsing: text).sparsities == table)
        #expect(throws: PruneError.self) { try TargetSparsitySelector.text(["a;b": 0.5]) }
        #expect(throws: PruneError.self) { try TargetSparsitySelector(parsing: "a=1.5") }
        #expect(throws: PruneError.self) { try TargetSparsitySelector(parsing: "a=0.5;a=0.25") }
    }

    @Test func aNameThatIsNoTargetIsAnError() throws {
        let error = #expect(throws: PruneError.self) {
            try run([weight("a", [1, 2], [1, 2])], selector: "targets:sparsities=missing=0.5")
        }
        #expect(error?.message.contains("'missing'") == true)
    }

    @Test func outlierRatioCountsScoresAboveMTimesTheMean() {
        // Mean 2, M = 5: only 11 exceeds 10.
        #expect(OutlierWeightedSelector.outlierRatio([1, 1, 1, 1, 1, 1, 1, 1, 1, 11], multiple: 5) == 0.1)
    }

    @Test func owlSpreadsSparsityInverselyToOutliersAroundTheTarget() {
        // Ratios 0, 0.1, 0.2 → kept 0, 0.1, 0.2 (span 2λ = 0.2); equal sizes, mean 0.1; shift 0.5 − 0.1 = 0.4:
        // kept 0.4, 0.5, 0.6 → sparsity 0.6, 0.5, 0.4.
        let levels = OutlierWeightedSelector.sparsities(
            ratios: [0, 0.1, 0.2], sizes: [10, 10, 10], sparsity: 0.5, spread: 0.1)
        #expect(zip(levels, [0.6, 0.5, 0.4]).allSatisfy { abs($0 - $1) < 1e-12 })
        // Weighted by size: sizes 30 and 10, ratios 0 and 1, λ = 0.1: kept 0, 0.2; weighted mean 0.05;
        // shift 0.55: sparsity 0.45 and 0.25; (30·0.45 + 10·0.25) / 40 = 0.4.
        let weighted = OutlierWeightedSelector.sparsities(ratios: [0, 1], sizes: [30, 10], sparsity: 0.4, spread: 0.1)
        #expect(abs(weighted[0] - 0.45) < 1e-12 && abs(weighted[1] - 0.25) < 1e-12)
    }

    @Test func owlPrunesPerRowAtTheLayerSparsities() throws {
        // Magnitude scores. a: mean 27/8 = 3.375, limit 5 × 3.375 = 16.875, one outlier (20): ratio 1/8. b: mean 4.5,
        // limit 22.5, none: ratio 0. λ = 0.25, S = 0.5, equal sizes: kept 0.5 and 0, mean 0.25, shift 0.25:
        // a keeps 0.75 (sparsity 0.25, 1 of each 4-wide row), b keeps 0.25 (sparsity 0.75, 3 of each row).
        let model = try run(
            [
                weight("a", [2, 4], [20, 1, 1, 1, 1, 1, 1, 1]),
                weight("b", [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]),
            ], selector: "owl:sparsity=0.5,lambda=0.25,m=5")
        #expect(model["a"]!.tensor.floatValues() == [20, 0, 1, 1, 0, 1, 1, 1])
        #expect(model["b"]!.tensor.floatValues() == [0, 0, 0, 4, 0, 0, 0, 8])
    }
}
