import Foundation
import ONNXProto
import PruneKit
@testable import PruneReconstruct
import PruneTestSupport
import Testing

/// The OBS sweep (unstructured and N:M reconstruction) against hand-derived optimal-brain-surgeon updates.
struct SparseOBSSweepTests {
    /// Runs the sweep on one row-major matrix with an undamped Hessian.
    static func sweep(
        _ weights: [Double], rows: Int, hessian: [Double], blockSize: Int, pattern: SparsityPattern
    ) throws -> (weights: [Double], mask: [Bool]) {
        let columns = weights.count / rows
        let factor = try InverseHessianFactor.upperFactor(of: hessian, n: columns, layer: "test")
        var updated = weights
        let mask = SparseOBSSweep.run(
            weights: &updated, rows: rows, columns: columns, factor: factor, blockSize: blockSize, pattern: pattern,
            threads: 2)
        return (updated, mask)
    }

    @Test func theFactorIsUpperTriangularAndItsGramIsTheInverse() throws {
        // H = A·Aᵀ + I for a fixed A: symmetric positive definite.
        let n = 6
        var a = [Double](repeating: 0, count: n * n)
        for index in a.indices {
            let step = (index * 7 + 3) % 11
            a[index] = Double(step) / 5 - 1
        }
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            h[i * n + i] = 1
            for j in 0..<n {
                for k in 0..<n { h[i * n + j] += a[i * n + k] * a[j * n + k] }
            }
        }
        let u = try InverseHessianFactor.upperFactor(of: h, n: n, layer: "test")
        for i in 0..<n {
            for j in 0..<i { #expect(u[i * n + j] == 0) }
            #expect(u[i * n + i] > 0)
        }
        // (UᵀU)·H = I.
        for i in 0..<n {
            for j in 0..<n {
                var value = 0.0
                for k in 0..<n {
                    var utu = 0.0
                    for m in 0..<n { utu += u[m * n + i] * u[m * n + k] }
                    value += utu * h[k * n + j]
                }
                #expect(abs(value - (i == j ? 1 : 0)) < 1e-9, "(\(i), \(j)) = \(value)")
            }
        }
    }

    /// Removing w₀ from w = [1, 2, 3] with H = [[2, 1, 0], [1, 2, 0], [0, 0, 1]]: H⁻¹ = ⅓[[2, −1, 0], [−1, 2, 0],
    /// [0, 0, 3]], so the OBS update −(w₀ / [H⁻¹]₀₀)·H⁻¹[0, ·] = −1.5·[⅔, −⅓, 0] gives [0, 2.5, 3], whether the
    /// update to later columns is applied inside the block or as the lazy block update.
    @Test func removingTheFirstColumnIsTheClassicOBSUpdate() throws {
        let h: [Double] = [2, 1, 0, 1, 2, 0, 0, 0, 1]
        for blockSize in [1, 2, 128] {
            let (w, mask) = try Self.sweep(
                [1, 2, 3], rows: 1, hessian: h, blockSize: blockSize, pattern: .fixed([true, false, false]))
            #expect(mask == [true, false, false])
            #expect(abs(w[0]) == 0 && abs(w[1] - 2.5) < 1e-12 && abs(w[2] - 3) < 1e-12, "block \(blockSize): \(w)")
        }
    }

    /// Removing w₁ of [1, 2, 3] with H = [[2, 1, 1], [1, 2, 1], [1, 1, 2]]: column 0 was already visited and stays;
    /// over the remaining columns {1, 2}, H_F = [[2, 1], [1, 2]] and H_F⁻¹ = ⅓[[2, −1], [−1, 2]], so the update is
    /// −(2 / ⅔)·⅓[2, −1] = [−2, 1]: [1, 0, 4].
    @Test func earlierColumnsStayAndLaterOnesAbsorbTheError() throws {
        let h: [Double] = [2, 1, 1, 1, 2, 1, 1, 1, 2]
        for blockSize in [1, 128] {
            let (w, _) = try Self.sweep(
                [1, 2, 3, 1, 2, 3], rows: 2, hessian: h, blockSize: blockSize,
                pattern: .fixed([false, true, false, false, true, false]))
            for row in 0..<2 {
                let r = Array(w[(row * 3)..<(row * 3 + 3)])
                #expect(abs(r[0] - 1) < 1e-12 && r[1] == 0 && abs(r[2] - 4) < 1e-12, "block \(blockSize): \(r)")
            }
        }
    }

    /// With a diagonal H the OBS score w²/U[c, c]² is w²·H[c, c] and nothing can compensate: for w = [1, 0.6, 0.8, 2]
    /// and H = diag(1, 4, 1, 1) the scores are [1, 1.44, 0.64, 4], so two removals take columns 2 and 0 — not the
    /// selection's columns 0 and 1.
    @Test func adaptiveChoiceKeepsTheCountAndTakesTheSmallestOBSScores() throws {
        let h: [Double] = [1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
        let (w, mask) = try Self.sweep(
            [1, 0.6, 0.8, 2], rows: 1, hessian: h, blockSize: 4,
            pattern: .chosen(segments: [[0, 1, 2, 3]], counts: [2]))
        #expect(mask == [true, false, true, false])
        #expect(w == [0, 0.6, 0, 2])
    }

    @Test func nmShapedSelectionsAreRecognisedAlongTheInputChannels() {
        // 1 row, 4 input channels × kernel volume 2: columns c·2 + s. Runs along c at each s.
        // s = 0: channels 0–3 → columns 0, 2, 4, 6; s = 1: columns 1, 3, 5, 7.
        let twoOfFour: [Bool] = [true, false, true, false, false, true, false, true]
        #expect(SparseReconstruction.nmRunLength(twoOfFour, rows: 1, columns: 8, kernelVolume: 2) == 4)
        // Pairs (c0, c1) and (c2, c3) at s = 0 hold 2 and 0: not 1:2.
        let oneOfTwo: [Bool] = [true, false, false, true, true, false, false, true]
        #expect(SparseReconstruction.nmRunLength(oneOfTwo, rows: 1, columns: 8, kernelVolume: 2) == 2)
        let uneven: [Bool] = [true, true, true, false, false, false, false, false]
        #expect(SparseReconstruction.nmRunLength(uneven, rows: 1, columns: 8, kernelVolume: 2) == nil)
        #expect(
            SparseReconstruction.runSegments(columns: 8, kernelVolume: 2, length: 4) == [[0, 2, 4, 6], [1, 3, 5, 7]])
    }
}

/// The rewriter on element selections, end to end through the interpreter on hand-built graphs.
struct SparseReconstructTests {
    /// y = x·Wᵀ with W = [1, 2, 3] ([1, 3], transB) and an optional second layer.
    static func gemm(_ name: String, input: String, output: String, shape: [Int], values: [Float]) -> (
        inout LayerGraphBuilder
    ) -> Void {
        { builder in
            builder.weight("\(name).weight", shape, values: values)
            builder.node("Gemm", [input, "\(name).weight"], [output], name: name, ints: ["transB": 1])
        }
    }

    /// Rows with x₀ = x₁ + x₂ and x₁, x₂ independent.
    static let dependentBatches = InMemoryBatches(batches: [
        ["x": Tensor(shape: [3, 3], values: [0.3, 0.1, 0.2, 1.0, 0.7, 0.3, 0.5, 0.9, -0.4])],
        ["x": Tensor(shape: [2, 3], values: [1.1, 0.4, 0.7, -0.2, 0.6, -0.8])],
    ])

    /// Pruning w₀ of y = w·x with x₀ = x₁ + x₂ is undone exactly by w₁ += w₀, w₂ += w₀: [1, 2, 3] → [0, 3, 4].
    @Test func aRemovedWeightWhoseInputIsALinearCombinationIsRecoveredExactly() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 3])
        builder.output("y", [nil, 1])
        Self.gemm("fc", input: "x", output: "y", shape: [1, 3], values: [1, 2, 3])(&builder)
        let work = try Scratch()
        let model = try work.open(builder.model, as: "dependent").model
        let selection = Selection(entries: [
            .init(target: .elements(of: try model.parameter(named: "fc.weight")), decision: .prune(Mask(count: 3, setting: [0])))
        ])
        let context = PruneContext(model: model, calibrationBatches: Self.dependentBatches)
        let (result, layers) = try ReconstructRewriter(damp: 1e-10, adaptive: false, heldOutFraction: 0)
            .reconstruct(model, applying: selection, in: context)
        let w = result["fc.weight"]!.tensor.floatValues()
        #expect(w[0] == 0 && abs(w[1] - 3) < 1e-4 && abs(w[2] - 4) < 1e-4, "\(w)")
        let row = try #require(layers.first)
        #expect(row.action == .sparseOBS && row.rows == 5 && row.layer == "fc")
        #expect(try #require(row.relativeErrorBefore) > 0.05)
        #expect(try #require(row.relativeErrorAfter) < 1e-8)
        let end = try #require(layers.last)
        #expect(end.action == .modelOutput && end.layer == "y" && end.rows == 5)
        #expect(try #require(end.relativeErrorAfter) < 1e-8)
    }

    /// The same recovery through a MatMul whose weight is stored `[in, out]` and whose input is `[batch, tokens, in]`
    /// (how exporters write a transformer's linear layers): out 0 = [1, 2, 3] → [0, 3, 4]; out 1 = [1, 1, 1] keeps
    /// its weights (nothing selected in it).
    @Test func aMatMulWeightStoredInputMajorIsSweptPerOutput() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, nil, 3])
        builder.output("y", [nil, nil, 2])
        builder.weight("proj.weight", [3, 2], values: [1, 1, 2, 1, 3, 1])
        builder.node("MatMul", ["x", "proj.weight"], ["y"], name: "proj")
        let work = try Scratch()
        let model = try work.open(builder.model, as: "matmul").model
        // Element (in 0, out 0) is index 0 of the [3, 2] tensor.
        let selection = Selection(entries: [
            .init(target: .elements(of: try model.parameter(named: "proj.weight")), decision: .prune(Mask(count: 6, setting: [0])))
        ])
        let rows = Self.dependentBatches.batches.map { $0["x"]!.floatValues() }.joined()
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [1, 5, 3], values: Array(rows))]])
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter(damp: 1e-10, adaptive: false, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        let w = result["proj.weight"]!.tensor.floatValues()
        let expected: [Float] = [0, 1, 3, 1, 4, 1]
        #expect(zip(w, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "\(w)")
        #expect(w[0] == 0 && layers.first?.rows == 5)
    }

    /// `auto_pad` SAME_UPPER/SAME_LOWER with a 2×2 kernel pads one cell at the end/start of each axis, so the sweep
    /// must give exactly what it gives for the same Conv with those pads written out.
    @Test func samePaddingIsUnfoldedLikeTheExplicitPadsItImplies() throws {
        func model(autoPad: String?, pads: [Int]?) throws -> (Model, Scratch) {
            var builder = LayerGraphBuilder()
            builder.input("x", [nil, 2, 4, 4])
            builder.output("y", [nil, 3, 4, 4])
            builder.weight("conv.weight", [3, 2, 2, 2])
            var lists = ["kernel_shape": [2, 2]]
            if let pads { lists["pads"] = pads }
            builder.node("Conv", ["x", "conv.weight"], ["y"], name: "conv", lists: lists)
            if let autoPad {
                var attribute = Onnx_AttributeProto()
                attribute.name = "auto_pad"
                attribute.type = .string
                attribute.s = Data(autoPad.utf8)
                builder.graph.node[0].attribute.append(attribute)
            }
            let work = try Scratch()
            return (try work.open(builder.model, as: "conv").model, work)
        }
        let values = (0..<96).map { Float(($0 * 37 + 11) % 23) / 11 - 1 }
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [3, 2, 4, 4], values: values)]])
        for (mode, pads) in [("SAME_UPPER", [0, 0, 1, 1]), ("SAME_LOWER", [1, 1, 0, 0])] {
            var results: [[Float]] = []
            for variant in [(mode, nil), (nil, pads)] as [(String?, [Int]?)] {
                let (model, work) = try model(autoPad: variant.0, pads: variant.1)
                let selection = Selection(entries: [
                    .init(
                        target: .elements(of: try model.parameter(named: "conv.weight")),
                        decision: .prune(Mask(count: 24, setting: [0, 3, 5, 6, 9, 12, 15, 18, 21, 23])))
                ])
                let context = PruneContext(model: model, calibrationBatches: batches)
                let (result, layers) = try ReconstructRewriter(heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
                #expect(layers.first?.action == .sparseOBS && layers.first?.rows == 48)
                results.append(result["conv.weight"]!.tensor.floatValues())
                _ = work
            }
            #expect(results[0] == results[1], "\(mode)")
            #expect(results[0].filter { $0 == 0 }.count == 10)
        }
    }

    /// A Conv with group = 2 is swept as the two Convs it stands for: the same weights as Split → two Convs → Concat.
    @Test func aGroupedConvIsSweptGroupByGroupLikeTheConvsItStandsFor() throws {
        var weights = [Float](repeating: 0, count: 72)
        for index in weights.indices { weights[index] = Float((index * 29 + 7) % 31) / 15 - 1 }
        let pruned = Set((0..<72).filter { ($0 * 13) % 5 < 2 })
        var grouped = LayerGraphBuilder()
        grouped.input("x", [nil, 4, 5, 5])
        grouped.output("y", [nil, 4, 5, 5])
        grouped.weight("conv.weight", [4, 2, 3, 3], values: weights)
        grouped.node(
            "Conv", ["x", "conv.weight"], ["y"], name: "conv", ints: ["group": 2],
            lists: ["kernel_shape": [3, 3], "pads": [1, 1, 1, 1]])
        var split = LayerGraphBuilder()
        split.input("x", [nil, 4, 5, 5])
        split.output("y", [nil, 4, 5, 5])
        split.int64s("sizes", [2, 2])
        split.node("Split", ["x", "sizes"], ["xa", "xb"], name: "split", ints: ["axis": 1])
        for (part, range) in [("a", 0..<36), ("b", 36..<72)] {
            split.weight("conv_\(part).weight", [2, 2, 3, 3], values: Array(weights[range]))
            split.node(
                "Conv", ["x\(part)", "conv_\(part).weight"], ["y\(part)"], name: "conv_\(part)",
                lists: ["kernel_shape": [3, 3], "pads": [1, 1, 1, 1]])
        }
        split.node("Concat", ["ya", "yb"], ["y"], name: "concat", ints: ["axis": 1])

        var values = [Float](repeating: 0, count: 200)
        for index in values.indices { values[index] = Float((index * 17 + 3) % 19) / 9 - 1 }
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [2, 4, 5, 5], values: values)]])
        let work = try Scratch()
        let groupedModel = try work.open(grouped.model, as: "grouped").model
        let splitModel = try work.open(split.model, as: "split").model
        let groupedSelection = Selection(entries: [
            .init(target: .elements(of: try groupedModel.parameter(named: "conv.weight")), decision: .prune(Mask(count: 72, setting: pruned)))
        ])
        let splitSelection = Selection(entries: [
            .init(
                target: .elements(of: try splitModel.parameter(named: "conv_a.weight")),
                decision: .prune(Mask(count: 36, setting: pruned.filter { $0 < 36 }))),
            .init(
                target: .elements(of: try splitModel.parameter(named: "conv_b.weight")),
                decision: .prune(Mask(count: 36, setting: pruned.filter { $0 >= 36 }.map { $0 - 36 }))),
        ])
        let (groupedResult, groupedLayers) = try ReconstructRewriter(heldOutFraction: 0).reconstruct(
            groupedModel, applying: groupedSelection, in: PruneContext(model: groupedModel, calibrationBatches: batches))
        let (splitResult, _) = try ReconstructRewriter(heldOutFraction: 0).reconstruct(
            splitModel, applying: splitSelection, in: PruneContext(model: splitModel, calibrationBatches: batches))
        let expected = splitResult["conv_a.weight"]!.tensor.floatValues() + splitResult["conv_b.weight"]!.tensor.floatValues()
        let actual = groupedResult["conv.weight"]!.tensor.floatValues()
        #expect(zip(actual, expected).allSatisfy { abs($0 - $1) < 1e-5 }, "\(actual) vs \(expected)")
        #expect(actual.filter { $0 == 0 }.count == pruned.count)
        #expect(zip(actual, weights).contains { $0 != 0 && abs($0 - $1) > 1e-3 }, "the survivors were updated")
        #expect(groupedLayers.first?.action == .sparseOBS && groupedLayers.first?.rows == 50)
    }

    /// x₀ = x₁; fc1 = I with its row 1 removed makes h₁ ≡ 0 in the pruned model; fc2 = [1, 1] loses w₀. From the
    /// pruned model's inputs nothing can stand in for h₀ (the only other input is dead), so fc2's output is lost
    /// (relative error 1); from the dense model's inputs h₁ = h₀ takes over (w₁ → 2, error 0).
    @Test func sequentialInputsComeFromThePrunedModelAndDenseInputsOnRequest() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2])
        builder.output("y", [nil, 1])
        Self.gemm("fc1", input: "x", output: "h", shape: [2, 2], values: [1, 0, 0, 1])(&builder)
        Self.gemm("fc2", input: "h", output: "y", shape: [1, 2], values: [1, 1])(&builder)
        let work = try Scratch()
        let model = try work.open(builder.model, as: "chain").model
        let selection = Selection(entries: [
            .init(target: .elements(of: try model.parameter(named: "fc1.weight")), decision: .prune(Mask(count: 4, setting: [2, 3]))),
            .init(target: .elements(of: try model.parameter(named: "fc2.weight")), decision: .prune(Mask(count: 2, setting: [0]))),
        ])
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [3, 2], values: [1, 1, -2, -2, 0.5, 0.5])]])
        let context = PruneContext(model: model, calibrationBatches: batches)
        let sequential = try ReconstructRewriter(damp: 1e-9, adaptive: false, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        let fromDense = try ReconstructRewriter(damp: 1e-9, adaptive: false, denseInputs: true, heldOutFraction: 0)
            .reconstruct(model, applying: selection, in: context)
        let afterSequential = try #require(sequential.layers.first { $0.layer == "fc2" }?.relativeErrorAfter)
        let afterDense = try #require(fromDense.layers.first { $0.layer == "fc2" }?.relativeErrorAfter)
        #expect(abs(afterSequential - 1) < 1e-6, "\(afterSequential)")
        #expect(afterDense < 1e-6, "\(afterDense)")
        let w = fromDense.model["fc2.weight"]!.tensor.floatValues()
        #expect(w[0] == 0 && abs(w[1] - 2) < 1e-4, "\(w)")
        #expect(sequential.model["fc1.weight"]!.tensor.floatValues() == [1, 0, 0, 0])
    }

    @Test func aTensorThatIsNoLayerWeightIsMaskedAndReported() throws {
        let work = try Scratch()
        let model = try work.open(ReconstructTests.mlp(), as: "mlp").model
        let selection = Selection(entries: [
            .init(target: .elements(of: try model.parameter(named: "fc2.bias")), decision: .prune(Mask(count: 1, setting: [0])))
        ])
        let context = PruneContext(model: model, calibrationBatches: ReconstructTests.mlpBatches)
        let (result, layers) = try ReconstructRewriter(heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        #expect(result["fc2.bias"]!.tensor.floatValues() == [0])
        #expect(result["fc2.weight"]!.tensor.floatValues() == [1, 2, 3])
        #expect(layers.count == 2 && layers[0].action == .maskOnly && layers[0].layer == "fc2.bias")
        // Nothing was updated, so the end metric is the same with and without the update.
        #expect(layers[1].action == .modelOutput && layers[1].relativeErrorBefore == layers[1].relativeErrorAfter)
        #expect(layers[0].note?.contains("not the float32 weight of a Conv, Gemm or MatMul") == true)
    }
}

/// `prune run --rewriter reconstruct` on element selections of the bundled CNN, measured with `prune eval`.
@Suite(.serialized)
struct SparseReconstructCLITests {
    private let model = Examples.cnn.appending(path: "model.onnx").path
    private let calibration = Examples.cnn.appending(path: "calib.safetensors").path
    private let weights = ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"]

    private func prune(_ selector: String, rewriter: String, into work: Scratch) throws -> (report: String, output: String) {
        let output = work.path("\(rewriter)-\(selector).onnx")
        let run = try PruneBinary.run([
            "run", model, "-o", output, "--calibration", calibration, "--scorer", "activation", "--selector", selector,
            "--rewriter", rewriter,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        return (run.stdout, output)
    }

    private func accuracy(_ path: String) throws -> Double {
        let eval = try PruneBinary.run([
            "eval", path, "--data", Examples.cnn.appending(path: "test.safetensors").path, "--labels", "labels", "--json",
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        return try #require((json["accuracy"] as? [String: Any])?["value"] as? Double)
    }

    /// Zeros per output row of each weight (rows = first axis: all four are `[out, …]`).
    private func zerosPerRow(_ path: String) throws -> [String: [Int]] {
        let document = try ONNXDocument(url: URL(fileURLWithPath: path))
        var result: [String: [Int]] = [:]
        for name in weights {
            let tensor = try document.model.parameter(named: name).tensor
            let values = tensor.floatValues()
            let width = values.count / tensor.shape[0]
            result[name] = (0..<tensor.shape[0]).map { row in values[(row * width)..<((row + 1) * width)].filter { $0 == 0 }.count }
        }
        return result
    }

    /// At 70 % per row, masking Wanda's choice costs the CNN much of its accuracy; the OBS sweep keeps every row's
    /// count (the same zeros per row as the mask) and recovers most of it.
    @Test func rowSparsityIsKeptPerRowAndAccuracyRecovers() throws {
        let work = try Scratch()
        let masked = try prune("row:sparsity=0.7", rewriter: "mask", into: work)
        let rebuilt = try prune("row:sparsity=0.7", rewriter: "reconstruct", into: work)
        for layer in ["/conv1/Conv", "/conv2/Conv", "/fc1/Gemm", "/fc2/Gemm"] {
            #expect(rebuilt.report.contains("reconstructed \(layer) (OBS): relative error on fitted samples"), "\(rebuilt.report)")
        }
        #expect(try zerosPerRow(rebuilt.output) == zerosPerRow(masked.output))
        // The report counts the zeros of rewritten tensors too (the same totals as the mask's).
        let totals = { (report: String) in report.split(separator: "\n").first { $0.hasPrefix("parameters:") } }
        #expect(totals(rebuilt.report) != nil && totals(rebuilt.report) == totals(masked.report), "\(rebuilt.report)")
        #expect(rebuilt.report.contains("re-estimated /bn1/BatchNormalization: BatchNorm running statistics"))
        #expect(rebuilt.report.contains("model output logits: relative error to the dense model on fitted samples"))
        let (maskAccuracy, rebuiltAccuracy) = (try accuracy(masked.output), try accuracy(rebuilt.output))
        #expect(rebuiltAccuracy > maskAccuracy + 0.1, "mask \(maskAccuracy), reconstruct \(rebuiltAccuracy)")
    }

    /// 2:4 along the input channels stays 2:4: every run of 4 input channels at each (out, kh, kw) has 2 zeros.
    /// (conv1 has a single input channel, so the selector skips it.)
    @Test func nmSelectionsKeepTheirPattern() throws {
        let work = try Scratch()
        let rebuilt = try prune("nm:n=2,m=4", rewriter: "reconstruct", into: work)
        #expect(rebuilt.report.contains("skipped conv1.weight: input dimension 1 is not a multiple of m=4"), "\(rebuilt.report)")
        let document = try ONNXDocument(url: URL(fileURLWithPath: rebuilt.output))
        for name in weights.dropFirst() {
            let tensor = try document.model.parameter(named: name).tensor
            let values = tensor.floatValues()
            let inputs = tensor.shape[1]
            let inner = tensor.shape.dropFirst(2).reduce(1, *)
            for o in 0..<tensor.shape[0] {
                for start in stride(from: 0, to: inputs, by: 4) {
                    for s in 0..<inner {
                        let zeros = (0..<4).filter { values[(o * inputs + start + $0) * inner + s] == 0 }.count
                        #expect(zeros >= 2, "\(name) row \(o) run \(start) position \(s)")
                    }
                }
            }
        }
        #expect(try accuracy(rebuilt.output) >= 0.95 * 0.9889)
    }
}
