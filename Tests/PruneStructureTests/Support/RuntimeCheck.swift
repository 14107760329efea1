import Foundation
import PruneTestSupport
import Testing

/// Runs `Scripts/onnx_check.py` (onnx.checker + ONNX Runtime) on written models, comparing ONNX Runtime's
/// outputs with the interpreter's. The same rules as `PruneONNXTests`' runtime check: `$PRUNEKIT_PYTHON`, else
/// `<package root>/.venv/bin/python`; without one the check is skipped with a message, unless `CI` is set.
enum RuntimeCheck {
    static let isCI = TestPython.isCI
    static let python = TestPython.python

    /// Checks the model at `url` and that ONNX Runtime gives `want` for `values`.
    static func expect(_ url: URL, input: String, shape: [Int], values: [Float], output: String, want: [Float]) throws {
        guard let python else {
            if isCI {
                Issue.record("CI is set but no Python with onnx, onnxruntime and numpy (PRUNEKIT_PYTHON or .venv)")
            }
            return
        }
        let expectation: [String: Any] = [
            "inputs": [input: ["shape": shape, "values": values.map(Double.init)]],
            "outputs": [output: want.map(Double.init)], "tolerance": 1e-4,
        ]
        try JSONSerialization.data(withJSONObject: expectation).write(
            to: URL(fileURLWithPath: url.path + ".expect.json"))
        let script = Harness.packageRoot.appendingPathComponent("Scripts/onnx_check.py")
        let result = try run(python, [script.path, url.path])
        #expect(result.status == 0, "onnx_check.py: \(result.output)")
    }

    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestPython.run(executable, arguments)
    }
}
