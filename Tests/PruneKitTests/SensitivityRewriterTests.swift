import Foundation
import ONNXProto
import PruneKit
import PruneTestSupport
import Testing

/// `SensitivitySweep` with a rewriter other than the default removal: the curves price what recovery cannot win
/// back.
@Suite("Sensitivity sweep through another rewriter")
struct SensitivityRewriterTests {
    /// x (2, positive) → fc1 (3 neurons, the third 0.1·(x0 + x1)) → Relu → fc2 (2 outputs). The third neuron has
    /// the smallest `magnitude:p=2` score (‖[0.1, 0.1]‖² + ‖[0.3, 0.2]‖² = 0.15 against 3 and 5.25), so a third of
    /// the group removes it, and a least-squares re-fit of fc2 recovers it exactly: fc2 becomes
    /// [[1.03, 2.03], [-0.98, 0.52]].
    static func mlp() -> Onnx_ModelProto {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2])
        builder.output("y", [nil, 2])
        builder.weight("fc1.weight", [3, 2], values: [1, 0, 0, 1, 0.1, 0.1])
        builder.weight("fc1.bias", [3], values: [0, 0, 0])
        builder.node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name: "fc1", ints: ["transB": 1])
        builder.node("Relu", ["h"], ["r"], name: "relu")
        builder.weight("fc2.weight", [2, 3], values: [1, 2, 0.3, -1, 0.5, 0.2])
        builder.weight("fc2.bias", [2], values: [0, 0.1])
        builder.node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["y"], name: "fc2", ints: ["transB": 1])
        return builder.model
    }

    func sweep(rewriter: String?, reusing cache: SensitivityCurves? = nil) throws -> SensitivityCurves {
        let work = try TemporaryDirectory()
        let model = work.url.appending(path: "mlp.onnx")
        try Data(Self.mlp().serializedBytes() as [UInt8]).write(to: model)
        let calibration = work.url.appending(path: "calib.safetensors")
        let x: [Float] = [0.1, 0.7, 0.9, 0.2, 0.4, 0.4, 0.3, 0.8, 0.6, 0.1, 0.2, 0.5, 0.8, 0.9, 0.5, 0.3]
        let samples = try Model(parameters: [Parameter(name: "x", tensor: Tensor(shape: [8, 2], values: x))])
        _ = try SafetensorsWriter.write(samples, to: calibration, overwrite: false)
        var job = SensitivityJob(model: model, calibration: calibration, metric: .cosine, grid: [0.34], threads: 1)
        job.rewriter = try rewriter.map { try ComponentSpec(parsing: $0) }
        return try SensitivitySweep().run(job, reusing: cache)
    }

    @Test func aReconstructedPointCostsNothingWhenTheRemovedNeuronIsRecoverable() throws {
        let removed = try #require(try sweep(rewriter: nil).point(target: "fc1", sparsity: 0.34))
        let curves = try sweep(rewriter: "reconstruct:lambda=0")
        let rebuilt = try #require(curves.point(target: "fc1", sparsity: 0.34))
        #expect(removed.pruned == 1 && rebuilt.pruned == 1)
        // Both drop the neuron's 2 weights, its bias and its 2 fc2 weights: 9 + 8 − 5.
        #expect(removed.parameters == 12 && rebuilt.parameters == 12)
        #expect(removed.fidelity < 1 - 1e-5, "removal alone changes the outputs")
        #expect(abs(rebuilt.fidelity - 1) < 1e-6, "the re-fit recovers the dependent neuron exactly")
        #expect(curves.rewriter == "reconstruct:lambda=0")
    }

    @Test func aCacheMadeWithAnotherRewriterIsRefusedNamingBoth() throws {
        var other = try sweep(rewriter: nil)
        other.rewriter = "reconstruct"
        #expect { try sweep(rewriter: nil, reusing: other) } throws: { error in
            (error as? PruneError)?.message.contains("pruned with 'reconstruct', not 'the default rewriter'") == true
        }
    }

    @Test func aRewriterThatRunsTheModelNeedsCalibration() throws {
        let work = try TemporaryDirectory()
        let model = work.url.appending(path: "mlp.onnx")
        try Data(Self.mlp().serializedBytes() as [UInt8]).write(to: model)
        var job = SensitivityJob(model: model, data: model, metric: .cosine, grid: [0.34], threads: 1)
        job.rewriter = try ComponentSpec(parsing: "reconstruct")
        #expect { try SensitivitySweep().run(job) } throws: { error in
            (error as? PruneError)?.message.contains("rewriter 'reconstruct' runs the model on calibration data") == true
        }
    }
}
