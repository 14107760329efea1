import Foundation
import Testing

/// Runs `Scripts/onnx_check.py` (onnx.checker + ONNX Runtime) on written models, comparing ONNX Runtime's
/// outputs with the interpreter's. The same rules as `PruneONNXTests`' runtime check: `$PRUNEKIT_PYTHON`, else
/// `<package root>/.venv/bin/python`; without one the check is skipped with a message, unless `CI` is set.
enum RuntimeCheck {
    static let isCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    static let python: URL? = {
        let environment = ProcessInfo.processInfo.environment["PRUNEKIT_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        let candidate =
            environment.map { URL(fileURLWithPath: $0) }
            ?? Harness.packageRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: candidate.path),
            let result = try? run(candidate, ["-c", "import onnx, onnxruntime, numpy"]), result.status == 0
        else { return nil }
        return candidate
    }()

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
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
