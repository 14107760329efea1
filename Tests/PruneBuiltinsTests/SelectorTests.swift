import PruneKit
import Testing

/// Selectors and scorers on small tensors with hand-derived answers.
@Suite("Built-in selectors and scorers")
struct SelectorTests {
    private func run(
        _ parameters: [Parameter], scorer: String = "magnitude", selector: String,
        granularity: PruneTarget.Granularity = .element
    ) throws -> (Model, StageReport) {
        let model = try Model(parameters: parameters)
        let stage = try Stage(
            targets: TargetFilter(granularity: granularity), scorer: ComponentSpec(parsing: scorer),
            selector: ComponentSpec(parsing: selector), rewriter: ComponentSpec(parsing: "mask"),
            registry: .standard())
        let result = try Pipeline([stage]).run(on: model, context: PruneContext(model: model, threads: 2))
        return (result.model, result.stages[0])
    }

    private func weight(_ name: String, _ shape: [Int], _ values: [Float], layout: WeightLayout = .pytorch) -> Parameter
    {
        Parameter(name: name, tensor: Tensor(shape: shape, values: values), layout: layout)
    }

    @Test func thresholdPrunesScoresAtOrBelowTau() throws {
        let (model, _) = try run(
            [weight("w", [2, 3], [0.5, -0.2, 1, -1.5, 0.3, 0.31])], selector: "threshold:tau=0.3")
        #expect(model["w"]!.tensor.floatValues() == [0.5, 0, 1, -1.5, 0, 0.31])
    }

    @Test func layerPrunesRoundHalfEvenAndBreaksTiesByIndex() throws {
        // 5 × 0.5 = 2.5 rounds to 2; |w| = 1 at indices 1, 3 and 4: the two lower indices go.
        let (model, report) = try run([weight("w", [1, 5], [3, 1, 2, -1, 1])], selector: "layer:sparsity=0.5")
        #expect(model["w"]!.tensor.floatValues() == [3, 0, 2, 0, 1])
        #expect(report.targets[0].pruned == 2)
        // 5 × 0.7 = 3.5 rounds to 4.
        let (more, _) = try run([weight("w", [1, 5], [3, 1, 2, -1, 1])], selector: "layer:sparsity=0.7")
        #expect(more["w"]!.tensor.floatValues() == [3, 0, 0, 0, 0])
    }

    @Test func globalRanksAcrossTensorsWithFloorsAndCaps() throws {
        let a = weight("a", [2, 2], [1, 2, 3, 4])
        let b = weight("b", [2, 2], [10, 20, 30, 40])
        // Plain global 50 %: the four smallest are all in a.
        let (plain, _) = try run([a, b], selector: "global:sparsity=0.5")
        #expect(plain["a"]!.tensor.floatValues() == [0, 0, 0, 0])
        #expect(plain["b"]!.tensor.floatValues() == [10, 20, 30, 40])
        // A cap of 50 % per tensor moves two of the four to b.
        let (capped, _) = try run([a, b], selector: "global:sparsity=0.5,max=0.5")
        #expect(capped["a"]!.tensor.floatValues() == [0, 0, 3, 4])
        #expect(capped["b"]!.tensor.floatValues() == [0, 0, 30, 40])
        // A floor of 25 % forces one from b even at a low budget.
        let (floored, _) = try run([a, b], selector: "global:sparsity=0.25,min=0.25")
        #expect(floored["a"]!.tensor.floatValues() == [0, 2, 3, 4])
        #expect(floored["b"]!.tensor.floatValues() == [0, 20, 30, 40])
    }

    @Test func rowPrunesTheSameFractionOfEachOutputRow() throws {
        // PyTorch layout: rows are dimension 0.
        let (torchLayout, _) = try run([weight("w", [2, 4], [4, 1, 3, 2, 8, 7, 5, 6])], selector: "row:sparsity=0.5")
        #expect(torchLayout["w"]!.tensor.floatValues() == [4, 0, 3, 0, 8, 7, 0, 0])
        // ONNX MatMul layout [in, out]: rows are dimension 1.
        let matmul = weight("m", [4, 2], [4, 8, 1, 7, 3, 5, 2, 6], layout: WeightLayout(outputAxis: 1, inputAxis: 0))
        let (onnxLayout, _) = try run([matmul], selector: "row:sparsity=0.5")
        #expect(onnxLayout["m"]!.tensor.floatValues() == [4, 8, 0, 7, 3, 0, 0, 0])
    }

    @Test func nmKeepsNOfEveryMAlongTheInputDimension() throws {
        let (model, _) = try run([weight("w", [2, 4], [1, -4, 3, 2, 5, 6, -8, 7])], selector: "nm:n=2,m=4")
        #expect(model["w"]!.tensor.floatValues() == [0, -4, 3, 0, 0, 0, -8, 7])
        // Conv [out, in, kh, kw]: runs go along `in` at each (out, kh, kw).
        let conv: [Float] = [1, 9, 2, 8, 3, 7, 4, 6]  // [1, 4, 1, 2]: in-runs are (1,2,3,4) and (9,8,7,6)
        let (convModel, _) = try run([weight("c", [1, 4, 1, 2], conv)], selector: "nm:n=1,m=2")
        #expect(convModel["c"]!.tensor.floatValues() == [0, 9, 2, 0, 0, 7, 4, 0])
    }

    @Test func nmSkipsTensorsItCannotSplitAndSaysWhy() throws {
        let (model, report) = try run([weight("w", [2, 3], [1, 2, 3, 4, 5, 6])], selector: "nm:n=2,m=4")
        #expect(model["w"]!.tensor.isUnmodified)
        #expect(report.targets[0].skipReason == "input dimension 3 is not a multiple of m=4")
    }

    @Test func unitGranularityZeroesWholeOutputChannels() throws {
        // L2 norms of the rows: √2, 5, 1 → the smallest (row 2) goes at 1/3.
        let w = weight("w", [3, 2], [1, 1, 3, 4, 1, 0])
        let (model, report) = try run([w], scorer: "magnitude:p=2", selector: "layer:sparsity=0.34", granularity: .unit)
        #expect(model["w"]!.tensor.floatValues() == [1, 1, 3, 4, 0, 0])
        #expect(report.targets[0].positions == 3 && report.targets[0].pruned == 1)
    }

    @Test func energyIsLampOfSquares() throws {
        let model = try Model(parameters: [weight("w", [1, 3], [1, -2, 3])])
        let scores = try EnergyScorer().scores(for: .elements(of: model["w"]!), in: PruneContext(model: model))
        #expect(scores.values == [Float(1.0 / 14.0), Float(4.0 / 13.0), 1])
    }

    @Test func randomScoresRepeatForTheSameSeedAndName() throws {
        let model = try Model(parameters: [weight("w", [4, 4], [Float](repeating: 1, count: 16))])
        let target = PruneTarget.elements(of: model["w"]!)
        let a = try RandomScorer(seed: 3).scores(for: target, in: PruneContext(model: model))
        let b = try RandomScorer(seed: 3).scores(for: target, in: PruneContext(model: model))
        let c = try RandomScorer(seed: 4).scores(for: target, in: PruneContext(model: model))
        #expect(a == b && a != c)
        #expect(a.values.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    @Test func aScorerBreakingItsContractIsNamed() throws {
        struct Short: Scorer {
            func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores { Scores([1]) }
        }
        let model = try Model(parameters: [weight("w", [2, 2], [1, 2, 3, 4])])
        let stage = Stage(
            scorer: Short(), selector: LayerSelector(sparsity: 0.5), rewriter: MaskRewriter(),
            description: StageDescription(scorer: "short", selector: "layer", rewriter: "mask"))
        let error = #expect(throws: PruneError.self) {
            try Pipeline([stage]).run(on: model, context: PruneContext(model: model))
        }
        #expect(error?.message == "scorer 'short' returned 1 scores for 'w', which needs 4")
    }

    @Test func everyBuiltinSignatureParsesAndIsListed() {
        let names = ComponentRegistry.standard().components.map { "\($0.kind.rawValue)/\($0.name)" }
        #expect(
            names == [
                "scorer/magnitude", "scorer/energy", "scorer/random", "scorer/activation", "scorer/density",
                "scorer/contribution",
                "selector/threshold", "selector/layer", "selector/global", "selector/targets", "selector/owl",
                "selector/row", "selector/nm", "rewriter/mask",
                "rewriter/remove", "rewriter/reconstruct", "rewriter/quantize", "rewriter/qdq",
            ])
    }
}
