import Foundation
import PruneTestSupport
import ONNXProto
import PruneKit
import Testing

/// The least-squares re-fit and BatchNormalization re-estimation on graphs whose answers can be worked out by hand.
struct ReconstructTests {
    /// Gemm(2 → 3) → Relu → Gemm(3 → 1): hidden neuron 2 is h0 + h1, so removing it is recovered exactly by
    /// y = (1 + 3)·h0 + (2 + 3)·h1 + 0.5.
    static func mlp() -> Onnx_ModelProto {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2])
        builder.output("y", [nil, 1])
        builder.weight("fc1.weight", [3, 2], values: [1, 0, 0, 1, 1, 1])
        builder.weight("fc1.bias", [3], values: [0, 0, 0])
        builder.node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name: "fc1", ints: ["transB": 1])
        builder.node("Relu", ["h"], ["r"], name: "relu")
        builder.weight("fc2.weight", [1, 3], values: [1, 2, 3])
        builder.weight("fc2.bias", [1], values: [0.5])
        builder.node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["y"], name: "fc2", ints: ["transB": 1])
        return builder.model
    }

    /// Positive inputs (so the Relu passes everything), two batches.
    static let mlpBatches = InMemoryBatches(batches: [
        ["x": Tensor(shape: [4, 2], values: [0.1, 0.7, 0.9, 0.2, 0.4, 0.4, 0.3, 0.8])],
        ["x": Tensor(shape: [3, 2], values: [0.6, 0.1, 0.2, 0.5, 0.8, 0.9])],
    ])

    @Test func removingALinearlyDependentNeuronIsRecoveredExactly() throws {
        let work = try Scratch()
        let model = try work.open(Self.mlp(), as: "mlp").model
        let selection = try removing([2], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: Self.mlpBatches)
        let (result, layers) = try ReconstructRewriter(lambda: 0, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        let weight = try #require(result["fc2.weight"]).tensor
        #expect(weight.shape == [1, 2])
        let values = weight.floatValues()
        #expect(abs(values[0] - 4) < 1e-4 && abs(values[1] - 5) < 1e-4, "\(values)")
        #expect(abs(try #require(result["fc2.bias"]).tensor.floatValues()[0] - 0.5) < 1e-4)
        #expect(try #require(result["fc1.weight"]).tensor.floatValues() == [1, 0, 0, 1])
        let row = try #require(layers.first { $0.layer == "fc2" })
        #expect(row.action == .leastSquares && row.rows == 7)
        #expect(try #require(row.relativeErrorBefore) > 0.1)
        #expect(try #require(row.relativeErrorAfter) < 1e-9)
        // The end metric: the graph output y, off without the update, equal to the dense model's after it.
        #expect(layers.count == 2)
        let end = try #require(layers.last)
        #expect(end.action == .modelOutput && end.layer == "y" && end.rows == 7)
        #expect(try #require(end.relativeErrorBefore) > 0.01)
        #expect(try #require(end.relativeErrorAfter) < 1e-9)
    }

    @Test func dampingPullsTowardsTheSurvivingWeights() throws {
        let work = try Scratch()
        let model = try work.open(Self.mlp(), as: "mlp").model
        let selection = try removing([2], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: Self.mlpBatches)
        let exact = try ReconstructRewriter(lambda: 0, heldOutFraction: 0).rewrite(model, applying: selection, in: context).model
        let damped = try ReconstructRewriter(lambda: 10, heldOutFraction: 0).rewrite(model, applying: selection, in: context).model
        // Between the surviving weights [1, 2] and the exact fit [4, 5]; heavy damping stays near [1, 2].
        let (e, d) = (exact["fc2.weight"]!.tensor.floatValues(), damped["fc2.weight"]!.tensor.floatValues())
        #expect(d[0] > 1 && d[0] < e[0] && d[1] > 2 && d[1] < e[1], "\(d)")
    }

    /// 1×1 Conv(2 → 3) → Relu → 1×1 Conv(3 → 2) → BatchNormalization: channel 2 of conv1 is x0 + x1, conv2 reads
    /// channels 0 and 2. Removing conv1's channel 2 is recovered exactly, so bn2's statistics become those of
    /// (x0, x0 + x1).
    @Test func batchNormStatisticsAreReestimatedFromThePrunedModel() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2, 1, 1])
        builder.output("z", [nil, 2, 1, 1])
        builder.weight("conv1.weight", [3, 2, 1, 1], values: [1, 0, 0, 1, 1, 1])
        builder.node("Conv", ["x", "conv1.weight"], ["h"], name: "conv1", lists: ["kernel_shape": [1, 1]])
        builder.node("Relu", ["h"], ["r"], name: "relu")
        builder.weight("conv2.weight", [2, 3, 1, 1], values: [1, 0, 0, 0, 0, 1])
        builder.node("Conv", ["r", "conv2.weight"], ["c"], name: "conv2", lists: ["kernel_shape": [1, 1]])
        builder.weight("bn.weight", [2], values: [1, 1])
        builder.weight("bn.bias", [2], values: [0, 0])
        builder.weight("bn.running_mean", [2], values: [0, 0])
        builder.weight("bn.running_var", [2], values: [1, 1])
        builder.node(
            "BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], ["z"],
            name: "bn")
        let work = try Scratch()
        let model = try work.open(builder.model, as: "cnn").model
        // x0 = 1, 2, 3, 4 and x1 = 0, 1, 0, 1: channel 0 has mean 2.5, variance 1.25; x0 + x1 = 1, 3, 3, 5 has mean
        // 3, variance 2 (population variances).
        let batches = InMemoryBatches(batches: [
            ["x": Tensor(shape: [2, 2, 1, 1], values: [1, 0, 2, 1])],
            ["x": Tensor(shape: [2, 2, 1, 1], values: [3, 0, 4, 1])],
        ])
        let selection = try removing([2], ofGroup: "conv1", in: model)
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter(lambda: 0, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        let mean = result["bn.running_mean"]!.tensor.floatValues()
        let variance = result["bn.running_var"]!.tensor.floatValues()
        #expect(abs(mean[0] - 2.5) < 1e-4 && abs(mean[1] - 3) < 1e-4, "\(mean)")
        #expect(abs(variance[0] - 1.25) < 1e-4 && abs(variance[1] - 2) < 1e-4, "\(variance)")
        #expect(layers.map(\.action) == [.leastSquares, .batchNormStatistics, .modelOutput])
        #expect(layers[1].rows == 4)

        let untouched = try ReconstructRewriter(lambda: 0, reestimateBatchNorm: false, heldOutFraction: 0)
            .rewrite(model, applying: selection, in: context).model
        #expect(untouched["bn.running_mean"]!.tensor.floatValues() == [0, 0])
    }

    @Test func withoutCalibrationBatchesItSaysWhatIsMissing() throws {
        let work = try Scratch()
        let model = try work.open(Self.mlp(), as: "mlp").model
        let selection = try removing([2], ofGroup: "fc1", in: model)
        #expect {
            _ = try ReconstructRewriter(heldOutFraction: 0).rewrite(model, applying: selection, in: PruneContext(model: model))
        } throws: { error in
            (error as? PruneError)?.message.contains("needs calibration data") == true
                && (error as? PruneError)?.hint == .calibrationBatches
                && (error as? PruneError)?.message.contains("--") == false
        }
    }

    @Test func aStageMixingUnitsAndElementsIsRefusedNamingBoth() throws {
        let work = try Scratch()
        let model = try work.open(Self.mlp(), as: "mlp").model
        var selection = try removing([2], ofGroup: "fc1", in: model)
        let parameter = try model.parameter(named: "fc2.weight")
        selection.entries.append(.init(target: .elements(of: parameter), decision: .prune(Mask(count: 3, setting: [0]))))
        let context = PruneContext(model: model, calibrationBatches: Self.mlpBatches)
        #expect {
            _ = try ReconstructRewriter(heldOutFraction: 0).rewrite(model, applying: selection, in: context)
        } throws: { error in
            let message = (error as? PruneError)?.message ?? ""
            return message.contains("both units and elements") && message.contains("fc2.weight")
        }
    }
}

/// `prune run --rewriter reconstruct` end to end on the bundled CNN, measured with `prune eval`.
@Suite(.serialized)
struct ReconstructCLITests {
    private let model = Examples.cnn.appending(path: "model.onnx").path
    private let arguments = [
        "--granularity", "unit", "--scorer", "magnitude:p=2", "--selector", "layer:sparsity=0.5,rounding=floor-keep",
        "--rewriter", "reconstruct",
    ]

    @Test func halfTheChannelsRemovedKeepsNinetyFivePercentOfDenseAccuracy() throws {
        let work = try Scratch()
        let run = try PruneBinary.run(
            ["run", model, "-o", work.path("r.onnx"), "--calibration", Examples.cnn.appending(path: "calib.safetensors").path]
                + arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("MACs (batch 1): 337,536 → 86,848"))
        for layer in ["/conv2/Conv", "/fc1/Gemm", "/fc2/Gemm"] {
            #expect(run.stdout.contains("reconstructed \(layer) (least squares): relative error on fitted samples"), "\(run.stdout)")
        }
        #expect(run.stdout.contains("re-estimated /bn2/BatchNormalization: BatchNorm running statistics"))
        #expect(run.stdout.contains("model output logits: relative error to the dense model on fitted samples"))
        let eval = try PruneBinary.run([
            "eval", work.path("r.onnx"), "--data", Examples.cnn.appending(path: "test.safetensors").path, "--labels",
            "labels", "--json",
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let accuracy = try #require((json["accuracy"] as? [String: Any])?["value"] as? Double)
        #expect(accuracy >= 0.95 * 0.9889, "accuracy \(accuracy)")
    }

    @Test func missingCalibrationIsAnErrorBeforeAnythingIsWritten() throws {
        let work = try Scratch()
        let outcome = try PruneBinary.run(["run", model, "-o", work.path("r.onnx")] + arguments)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("rewriter 'reconstruct' (stage 'prune') needs calibration data: pass --calibration"))
        #expect(!FileManager.default.fileExists(atPath: work.path("r.onnx")))
    }
}
