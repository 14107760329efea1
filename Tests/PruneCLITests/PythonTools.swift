import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// A Python with `onnx`, `onnxruntime` and `numpy`, for tests that use ONNX Runtime as an independent reference.
///
/// Found like `PruneONNXTests` finds it: `$PRUNEKIT_PYTHON`, else `<package root>/.venv/bin/python`
/// (`bash Scripts/setup-python.sh` creates it). Without one, tests are skipped with a message — except when `CI`
/// is set, where they fail.
enum PythonTools {
    static let packageRoot = TestPython.packageRoot
    static let isCI = TestPython.isCI
    static let python = TestPython.python
    static let skipMessage = TestPython.skipMessage
    /// Whether tests that need Python run (they do on CI, where a missing Python is then a failure).
    static let enabled = TestPython.enabled

    /// The Python; without one the test is reported as skipped (a failure under CI).
    static func required() throws -> URL { try TestPython.required() }

    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestPython.run(executable, arguments)
    }

    /// Runs `model` in ONNX Runtime (`Scripts/ort_run.py`) on the inputs in `inputs` (safetensors) and returns
    /// its outputs by name; with `check`, the model must first pass `onnx.checker` (full check).
    static func onnxRuntimeOutputs(
        python: URL, model: String, inputs: String, workspace: Workspace, check: Bool
    ) throws -> [String: RuntimeTensor] {
        let output = workspace.path("ort-\(UUID().uuidString).safetensors")
        let script = packageRoot.appendingPathComponent("Scripts/ort_run.py").path
        let result = try run(python, [script, model, inputs, output] + (check ? ["--check"] : []))
        guard result.status == 0 else { throw PruneError(.invalidOutput, "ort_run.py failed: \(result.output)") }
        let document = try SafetensorsDocument(url: URL(fileURLWithPath: output))
        var tensors: [String: RuntimeTensor] = [:]
        for parameter in document.model.parameters { tensors[parameter.name] = try RuntimeTensor(parameter.tensor) }
        return tensors
    }
}
