import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// PruneKit's interpreter against ONNX Runtime on the same models and inputs: the bundled digits models, dense
/// and pruned by `prune run`, and a few models from ONNX's own test data.
///
/// Tolerance: every output value must satisfy |ours − ORT| ≤ 1e-4 · max(1, |ORT|), i.e. 1e-4 absolute for values
/// up to 1 in magnitude and 1e-4 relative above. Every file `prune run` writes must also pass
/// `onnx.checker.check_model(full_check=True)`.
@Suite("Interpreter vs ONNX Runtime")
struct InteropTests {
    static let tolerance: Float = 1e-4
    static let testData = URL(
        fileURLWithPath: ProcessInfo.processInfo.environment["ONNX_TESTDATA"] ?? "/usr/share/libonnx-testdata/data")
    /// ONNX test-data models (folder under the test data) whose ops the interpreter claims.
    /// (Old-opset models ORT no longer implements, such as BatchNormalization-6 or Gemm-6, are left out.)
    static let testDataModels = [
        "pytorch-converted/test_Conv2d_groups", "pytorch-converted/test_Conv2d_dilated",
        "pytorch-converted/test_Conv3d",
        "pytorch-converted/test_Softmax", "pytorch-converted/test_LogSoftmax", "pytorch-operator/test_operator_maxpool",
        "pytorch-operator/test_operator_reduced_mean", "node/test_batchnorm_example", "node/test_gemm_all_attributes",
        "node/test_layer_normalization_4d_axis1", "node/test_averagepool_2d_pads",
        "node/test_conv_with_strides_padding",
        "node/test_matmul_4d",
    ]

    /// The largest |a − b| and whether every value is within tolerance; throws when shapes differ.
    static func compare(_ ours: RuntimeTensor, _ theirs: RuntimeTensor, what: String) throws -> (Float, Bool) {
        guard ours.shape == theirs.shape else {
            throw PruneError(.shapeMismatch, "\(what): ours \(ours.shape), ONNX Runtime \(theirs.shape)")
        }
        var maxDifference: Float = 0
        var within = true
        for (a, b) in zip(ours.floatValues(), theirs.floatValues()) {
            let difference = abs(a - b)
            maxDifference = max(maxDifference, difference)
            if !(difference <= tolerance * max(1, abs(b))) { within = false }
        }
        return (maxDifference, within)
    }

    /// Our outputs for `model` on the tensors of the safetensors file `inputs` (by graph input name).
    static func ourOutputs(model: String, inputs: String) throws -> [String: RuntimeTensor] {
        let graph = try ONNXGraph(contentsOf: URL(fileURLWithPath: model))
        let document = try SafetensorsDocument(url: URL(fileURLWithPath: inputs))
        var feeds: [String: RuntimeTensor] = [:]
        for name in graph.inputNames {
            feeds[name] = try RuntimeTensor(try document.model.parameter(named: name).tensor)
        }
        return try Interpreter(graph: graph).run(feeds)
    }

    @Test(
        "digits MLP and CNN, dense and pruned (global 50 %, layer 70 %), agree with ONNX Runtime",
        .enabled(if: PythonTools.enabled, Comment(rawValue: PythonTools.skipMessage)))
    func digitsModelsAgree() throws {
        let python = try PythonTools.required()
        let workspace = try Workspace()
        var lines: [String] = []
        for example in ["digits-mlp", "digits-cnn"] {
            let folder = PythonTools.packageRoot.appending(path: "Examples/\(example)")
            let dense = folder.appending(path: "model.onnx").path
            let data = folder.appending(path: "test.safetensors").path
            var models = [("dense", dense, false)]
            for (label, selector) in [("global50", "global:sparsity=0.5"), ("layer70", "layer:sparsity=0.7")] {
                let output = workspace.path("\(example)-\(label).onnx")
                let result = try PruneBinary.run([
                    "run", dense, "-o", output, "--scorer", "magnitude", "--selector", selector, "--rewriter", "mask",
                ])
                #expect(result.status == 0, "prune run \(selector) failed: \(result.stderr)")
                models.append((label, output, true))
            }
            for (label, path, written) in models {
                let theirs = try PythonTools.onnxRuntimeOutputs(
                    python: python, model: path, inputs: data, workspace: workspace, check: written)
                let ours = try Self.ourOutputs(model: path, inputs: data)
                for (name, value) in theirs {
                    let mine = try #require(ours[name], "\(example) \(label): no output \(name)")
                    let (difference, within) = try Self.compare(mine, value, what: "\(example) \(label) \(name)")
                    #expect(within, "\(example) \(label) '\(name)': max |difference| \(difference)")
                    lines.append("  \(example) \(label) '\(name)' \(value.shape): max |ours − ORT| = \(difference)")
                }
            }
        }
        print("Interpreter vs ONNX Runtime (540 test samples each):\n" + lines.joined(separator: "\n"))
    }

    @Test(
        "models from ONNX's test data agree with ONNX Runtime",
        .enabled(if: PythonTools.enabled, Comment(rawValue: PythonTools.skipMessage)))
    func testDataModelsAgree() throws {
        let python = try PythonTools.required()
        guard FileManager.default.fileExists(atPath: Self.testData.path) else {
            if PythonTools.isCI {
                Issue.record("ONNX test data not found at \(Self.testData.path) (apt install libonnx-testdata)")
            }
            return
        }
        let workspace = try Workspace()
        var lines: [String] = []
        for folder in Self.testDataModels {
            let directory = Self.testData.appending(path: folder)
            let model = directory.appending(path: "model.onnx").path
            let graph = try ONNXGraph(contentsOf: URL(fileURLWithPath: model))
            // input_k.pb feeds the k-th graph input; write them as safetensors for ORT, by input name.
            var parameters: [Parameter] = []
            for (position, name) in graph.inputNames.enumerated() {
                let (_, tensor) = try RuntimeTensor.load(
                    tensorProtoAt: directory.appending(path: "test_data_set_0/input_\(position).pb"))
                parameters.append(Parameter(name: name, tensor: tensor.tensor()))
            }
            let inputs = workspace.path("\(directory.lastPathComponent)-inputs.safetensors")
            _ = try SafetensorsWriter.write(
                try Model(parameters: parameters), to: URL(fileURLWithPath: inputs), overwrite: true)
            let theirs = try PythonTools.onnxRuntimeOutputs(
                python: python, model: model, inputs: inputs, workspace: workspace, check: false)
            let ours = try Self.ourOutputs(model: model, inputs: inputs)
            for (name, value) in theirs {
                let mine = try #require(ours[name], "\(folder): no output \(name)")
                let (difference, within) = try Self.compare(mine, value, what: "\(folder) \(name)")
                #expect(within, "\(folder) '\(name)': max |difference| \(difference)")
                lines.append(
                    "  \(directory.lastPathComponent) '\(name)' \(value.shape): max |ours − ORT| = \(difference)")
            }
        }
        print("ONNX test-data models, interpreter vs ONNX Runtime:\n" + lines.joined(separator: "\n"))
    }
}
