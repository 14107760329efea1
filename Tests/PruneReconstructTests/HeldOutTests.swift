import Foundation
import ONNXProto
import PruneKit
@testable import PruneReconstruct
import PruneTestSupport
import Testing

/// Held-out calibration samples: how they are split off, and that a step which does not lower the error on them is
/// not kept. Every expected number is worked out by hand in the comments.
struct HeldOutTests {
    /// Sample i of the batch holds the value i, so the rows a piece carries name themselves.
    @Test func everyFourthSampleIsHeldOutAndPiecesAreBounded() throws {
        let batches = InMemoryBatches(batches: [
            ["x": Tensor(shape: [6, 1], values: [0, 1, 2, 3, 4, 5])],
            ["x": Tensor(shape: [2, 1], values: [6, 7])],
        ])
        let split = try CalibrationSplit(batches, inputs: ["x"], heldOutFraction: 0.25, chunk: 2)
        func values(_ part: SampleBatches) throws -> [[Float]] {
            try (0..<part.batchCount).map { try #require(part.batch($0, inputs: ["x"])["x"]).floatValues() }
        }
        // ⌊(s + 1)/4⌋ > ⌊s/4⌋ for s = 3 and 7; fitted runs of at most 2 samples, never across files.
        #expect(try values(split.fitted) == [[0, 1], [2, 4], [5], [6]])
        let heldOut = try #require(split.heldOut)
        #expect(try values(heldOut) == [[3], [7]])
        #expect(split.fitted.sampleCount == 6 && heldOut.sampleCount == 2)
        // No held-out part at fraction 0, or with a single sample.
        #expect(try CalibrationSplit(batches, inputs: ["x"], heldOutFraction: 0, chunk: 64).heldOut == nil)
        let single = InMemoryBatches(batches: [["x": Tensor(shape: [1, 1], values: [9])]])
        #expect(try CalibrationSplit(single, inputs: ["x"], heldOutFraction: 0.25, chunk: 64).heldOut == nil)
    }

    /// Gemm(3 → 3, identity) → Gemm(3 → 1, weights [1, 1, 1], no biases): y = x0 + x1 + x2. Hidden unit 2 is removed.
    static func chain() -> Onnx_ModelProto {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 3])
        builder.output("y", [nil, 1])
        builder.weight("fc1.weight", [3, 3], values: [1, 0, 0, 0, 1, 0, 0, 0, 1])
        builder.node("Gemm", ["x", "fc1.weight"], ["h"], name: "fc1", ints: ["transB": 1])
        builder.weight("fc2.weight", [1, 3], values: [1, 1, 1])
        builder.node("Gemm", ["h", "fc2.weight"], ["y"], name: "fc2", ints: ["transB": 1])
        return builder.model
    }

    /// Eight samples; samples 3 and 7 are held out. On the six fitted ones x2 = x0 and (x0, x1) are (±1, 0) or
    /// (0, ±1), so XᵀX = 3·I and the fit moves fc2's weights from [1, 1] towards [2, 1] by t = 3 / (3 + λ):
    /// [1 + t, 1]. On the held-out samples x = (−5, 1, `heldOutX2`).
    static func batches(heldOutX2: Float) -> InMemoryBatches {
        let rows: [[Float]] = [
            [1, 0, 1], [0, 1, 0], [-1, 0, -1], [-5, 1, heldOutX2], [0, -1, 0], [1, 0, 1], [0, 1, 0], [-5, 1, heldOutX2],
        ]
        return InMemoryBatches(batches: [["x": Tensor(shape: [8, 3], values: rows.flatMap { $0 })]])
    }

    /// Held out x2 = x1 = 1: y = −3, the surviving weights give −4 (error 1 of 9), and every step of the fit towards
    /// [2, 1] gives −4 − 5t, further off. The fit is computed, reported and not kept; the damping chosen is the
    /// grid's largest (λ = 1000 × 0.001 × mean diag 3 = 3, t = 1/2), the one that hurts least.
    @Test func aFitThatRaisesTheHeldOutErrorIsNotKept() throws {
        let work = try Scratch()
        let model = try work.open(Self.chain(), as: "chain").model
        let selection = try removing([2], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: Self.batches(heldOutX2: 1))
        let (result, layers) = try ReconstructRewriter().reconstruct(model, applying: selection, in: context)
        #expect(try #require(result["fc2.weight"]).tensor.floatValues() == [1, 1])
        let row = try #require(layers.first { $0.layer == "fc2" })
        #expect(row.reverted == true && row.rows == 6)
        #expect(abs(try #require(row.damping) - 1) < 1e-12)
        // Fitted: Σ y² = 3·4 + 3·1 = 15, Σ (y − ŷ)² = 3·1 = 3 before and 3·(1 − t)² = 0.75 after.
        #expect(abs(try #require(row.relativeErrorBefore) - 0.2) < 1e-9)
        #expect(abs(try #require(row.relativeErrorAfter) - 0.05) < 1e-9)
        // Held out: 1/9 before; (−4 − 2.5 + 3)² / 9 = 12.25 / 9 after.
        #expect(abs(try #require(row.heldOutErrorBefore) - 1.0 / 9) < 1e-9)
        #expect(abs(try #require(row.heldOutErrorAfter) - 12.25 / 9) < 1e-9)
        // The model is the selection alone, so its end metric did not get worse.
        let end = try #require(layers.last)
        #expect(end.action == .modelOutput && !end.worsened)
        #expect(end.heldOutErrorBefore == end.heldOutErrorAfter)
        #expect(!RewriteResult(model: result, layers: layers).worsened)
    }

    /// Held out x2 = x0 = −5, as on the fitted samples: y = −9 and the full fit (t → 1) is exact there, so the
    /// smallest damping of the grid wins (0.1 × 0.001 = 1e-4, t = 3 / (3 + 3e-4)) and the fit is kept.
    @Test func aFitThatLowersTheHeldOutErrorIsKeptWithTheDampingThatDoesBest() throws {
        let work = try Scratch()
        let model = try work.open(Self.chain(), as: "chain").model
        let selection = try removing([2], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: Self.batches(heldOutX2: -5))
        let (result, layers) = try ReconstructRewriter().reconstruct(model, applying: selection, in: context)
        let t = 3 / (3 + 3e-4)
        let weights = try #require(result["fc2.weight"]).tensor.floatValues()
        #expect(abs(Double(weights[0]) - (1 + t)) < 1e-6 && weights[1] == 1, "\(weights)")
        let row = try #require(layers.first { $0.layer == "fc2" })
        #expect(row.reverted == false)
        #expect(abs(try #require(row.damping) - 1e-4) < 1e-15)
        // Held out: (−4 + 9)² / 81 = 25/81 before, (5 − 5t)² / 81 after.
        #expect(abs(try #require(row.heldOutErrorBefore) - 25.0 / 81) < 1e-9)
        #expect(abs(try #require(row.heldOutErrorAfter) - 25 * (1 - t) * (1 - t) / 81) < 1e-9)
        let end = try #require(layers.last)
        #expect(try #require(end.heldOutErrorAfter) < (try #require(end.heldOutErrorBefore)))
    }

    /// The OCR finding: BatchNorm statistics that already fit the model are not replaced by estimates from a few
    /// samples. Conv(1×1, 2 → 2) → BN whose stored statistics (mean 0, variance 1) are not those of the calibration
    /// data; the removed unit of conv1 feeds nothing the BN sees (conv2's weights on it are 0), so the BN's input is
    /// the dense one and re-estimating can only move its output away from the dense model's.
    @Test func batchNormStatisticsThatDoNotLowerTheHeldOutErrorAreKept() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2, 1, 1])
        builder.output("z", [nil, 2, 1, 1])
        builder.weight("conv1.weight", [3, 2, 1, 1], values: [1, 0, 0, 1, 1, 1])
        builder.node("Conv", ["x", "conv1.weight"], ["h"], name: "conv1", lists: ["kernel_shape": [1, 1]])
        builder.weight("conv2.weight", [2, 3, 1, 1], values: [1, 0, 0, 0, 1, 0])
        builder.node("Conv", ["h", "conv2.weight"], ["c"], name: "conv2", lists: ["kernel_shape": [1, 1]])
        builder.weight("bn.weight", [2], values: [1, 1])
        builder.weight("bn.bias", [2], values: [0, 0])
        builder.weight("bn.running_mean", [2], values: [0, 0])
        builder.weight("bn.running_var", [2], values: [1, 1])
        builder.node(
            "BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["z"],
            name: "bn")
        let work = try Scratch()
        let model = try work.open(builder.model, as: "bn").model
        let values: [Float] = [1, 0, 2, 1, 3, 0, 4, 1, 5, 2, 6, 1, 7, 0, 8, 1]
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [8, 2, 1, 1], values: values)]])
        let selection = try removing([2], ofGroup: "conv1", in: model)
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter().reconstruct(model, applying: selection, in: context)
        #expect(result["bn.running_mean"]!.tensor.floatValues() == [0, 0])
        #expect(result["bn.running_var"]!.tensor.floatValues() == [1, 1])
        let row = try #require(layers.first { $0.action == .batchNormStatistics })
        #expect(row.reverted == true)
        #expect(try #require(row.heldOutErrorBefore) < 1e-12)
        #expect(try #require(row.heldOutErrorAfter) > 0.1)
        // With every sample fitted (nothing held out) the statistics are replaced, as before.
        let all = try ReconstructRewriter(heldOutFraction: 0).rewrite(model, applying: selection, in: context).model
        #expect(all["bn.running_mean"]!.tensor.floatValues() != [0, 0])
    }

    /// The OBS sweep's damping is chosen on held-out samples too. y = w·x with w = [1, 1] ([1, 2], transB); w₀ is
    /// removed with the mask kept. On the six fitted samples XᵀX = [[4, 2], [2, 4]] (mean diagonal 4), so the OBS
    /// update with damping d is w₁ += w₀·2 / (4 + 4d) = 0.5 / (1 + d). The held-out samples 3 and 7 are
    /// x = (`x0`, 1): the held-out error (x₀ − u)²·2 is least for the update u closest to x₀. Grid: 0.01 × {0.1, 1,
    /// 10}, so u ∈ {0.4995, 0.4950, 0.4545}.
    @Test(arguments: [(Float(0.4), 0.1), (Float(0.6), 0.001)])
    func theSweepsDampingIsTheGridValueThatDoesBestOnHeldOutSamples(x0: Float, expected: Double) throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2])
        builder.output("y", [nil, 1])
        builder.weight("fc.weight", [1, 2], values: [1, 1])
        builder.node("Gemm", ["x", "fc.weight"], ["y"], name: "fc", ints: ["transB": 1])
        let work = try Scratch()
        let model = try work.open(builder.model, as: "obs-damping").model
        let rows: [[Float]] = [[1, 1], [1, 0], [0, 1], [x0, 1], [-1, -1], [1, 0], [0, 1], [x0, 1]]
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [8, 2], values: rows.flatMap { $0 })]])
        let selection = Selection(entries: [
            .init(
                target: .elements(of: try model.parameter(named: "fc.weight")),
                decision: .prune(Mask(count: 2, setting: [0])))
        ])
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter(adaptive: false).reconstruct(
            model, applying: selection, in: context)
        let u = 0.5 / (1 + expected)
        let w = try #require(result["fc.weight"]).tensor.floatValues()
        #expect(w[0] == 0 && abs(Double(w[1]) - (1 + u)) < 1e-6, "\(w)")
        let row = try #require(layers.first { $0.layer == "fc" })
        #expect(row.action == .sparseOBS && row.reverted == false)
        #expect(abs(try #require(row.damping) - expected) < 1e-12)
        // Held out: ΔW·H·ΔWᵀ with H = [[2x₀², 2x₀], [2x₀, 2]] and reference w·H·wᵀ = 2(x₀ + 1)²: before ΔW = [−1, 0]
        // gives 2x₀², after [−1, u] gives 2(x₀ − u)².
        let reference = 2 * Double(x0 + 1) * Double(x0 + 1)
        #expect(abs(try #require(row.heldOutErrorBefore) - 2 * Double(x0 * x0) / reference) < 1e-6)
        let after = 2 * (Double(x0) - u) * (Double(x0) - u) / reference
        #expect(abs(try #require(row.heldOutErrorAfter) - after) < 1e-6)
        // Without held-out samples the given damping is used as it is.
        let (_, fixed) = try ReconstructRewriter(adaptive: false, heldOutFraction: 0).reconstruct(
            model, applying: selection, in: context)
        #expect(try #require(fixed.first { $0.layer == "fc" }?.damping) == 0.01)
    }
}
