import PruneKit
import Testing

/// `round=N` on `layer` and `global` with unit targets: kept = min(C, max(N, N·⌊(C − p)/N + ½⌋)).
@Suite("Round-to-multiple widths")
struct WidthRoundingTests {
    /// Runs one unit-granularity stage (rows of each weight are the units, magnitude scores) and returns the pruned
    /// row count per parameter.
    private func prunedRows(_ weights: [(String, [Float])], selector: String) throws -> [String: Int] {
        let parameters = weights.map { name, values in
            Parameter(name: name, tensor: Tensor(shape: [values.count, 1], values: values), layout: .pytorch)
        }
        let model = try Model(parameters: parameters)
        let stage = try Stage(
            targets: TargetFilter(granularity: .unit), scorer: ComponentSpec(parsing: "magnitude"),
            selector: ComponentSpec(parsing: selector), rewriter: ComponentSpec(parsing: "mask"),
            registry: .standard())
        let result = try Pipeline([stage]).run(on: model, context: PruneContext(model: model, threads: 1))
        return Dictionary(uniqueKeysWithValues: result.stages[0].targets.map { ($0.name, $0.pruned) })
    }

    private let twenty = (1...20).map(Float.init)

    @Test func layerRoundsTheKeptWidthToTheNearestMultiple() throws {
        // C = 20: p = 10 → kept 10 → 8 (1.25 rounds down) → 12 pruned.
        #expect(try prunedRows([("w", twenty)], selector: "layer:sparsity=0.5,round=8") == ["w": 12])
        // p = 6 → kept 14 → 16 (1.75 rounds up) → 4 pruned.
        #expect(try prunedRows([("w", twenty)], selector: "layer:sparsity=0.3,round=8") == ["w": 4])
        // p = 18 → kept 2 → 0, never zero: 8 kept → 12 pruned.
        #expect(try prunedRows([("w", twenty)], selector: "layer:sparsity=0.9,round=8") == ["w": 12])
        // p = 8 → kept 12 = 1.5 × 8: halves keep more → 16 kept → 4 pruned.
        #expect(try prunedRows([("w", twenty)], selector: "layer:sparsity=0.4,round=8") == ["w": 4])
        // C = 5 ≤ N: kept min(5, 8) = 5, nothing pruned.
        #expect(try prunedRows([("w", [1, 2, 3, 4, 5])], selector: "layer:sparsity=0.5,round=8") == ["w": 0])
        // floor-keep first: 20 − ⌊20·0.55⌋ = 9 pruned → kept 11 → 12 (round=4) → 8 pruned.
        #expect(
            try prunedRows([("w", twenty)], selector: "layer:sparsity=0.45,rounding=floor-keep,round=4") == ["w": 8])
    }

    @Test func globalRoundsEachTargetAfterTheGlobalRanking() throws {
        let a = (1...16).map(Float.init)
        let b = (1...16).map { Float($0) + 0.5 }
        // round(0.4 × 32) = 13 smallest: 1…7 of a (7), 1.5…6.5 of b (6) → kept 9 and 10.
        // round=8: 9 → 8, 10 → 8 → 8 pruned each. round=4: 9 → 8 (8 pruned), 10 → 12 (half up, 4 pruned).
        #expect(try prunedRows([("a", a), ("b", b)], selector: "global:sparsity=0.4,round=8") == ["a": 8, "b": 8])
        #expect(try prunedRows([("a", a), ("b", b)], selector: "global:sparsity=0.4,round=4") == ["a": 8, "b": 4])
        // Without rounding the global counts stand.
        #expect(try prunedRows([("a", a), ("b", b)], selector: "global:sparsity=0.4") == ["a": 7, "b": 6])
    }

    @Test func elementTargetsAreRefused() throws {
        let model = try Model(parameters: [Parameter(name: "w", tensor: Tensor(shape: [2, 2], values: [1, 2, 3, 4]))])
        let stage = try Stage(
            targets: TargetFilter(granularity: .element), scorer: ComponentSpec(parsing: "magnitude"),
            selector: ComponentSpec(parsing: "layer:sparsity=0.5,round=8"), rewriter: ComponentSpec(parsing: "mask"),
            registry: .standard())
        #expect(throws: PruneError.self) {
            try Pipeline([stage]).run(on: model, context: PruneContext(model: model))
        }
    }
}
