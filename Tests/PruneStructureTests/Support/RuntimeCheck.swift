import Foundation
import PruneTestSupport
import Testing

/// Runs `Scripts/onnx_check.py` (onnx.checker + ONNX Runtime) on written models, comparing ONNX Runtime's
/// outputs with the interpreter's. Python is found by `TestPython`; without one the test stops at this check and is
/// reported as skipped (a failure under CI).
enum RuntimeCheck {
    /// Checks the model at `url` and that ONNX Runtime gives `want` for `values`.
    static func expect(_ url: URL, input: String, shape: [Int], values: [Float], output: String, want: [Float]) throws {
        let python = try TestPython.required()
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
