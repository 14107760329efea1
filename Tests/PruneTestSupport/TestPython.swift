import Foundation
import Testing

/// The Python the tests use as an independent client of PruneKit's output: the ONNX checker and ONNX Runtime.
///
/// `$PRUNEKIT_PYTHON`, else `<package root>/.venv/bin/python` (`bash Scripts/setup-python.sh` creates it); it must
/// import `onnx`, `onnxruntime` and `numpy`. Without one, tests that need it are skipped with
/// ``skipMessage`` — except when `CI` is set, where they run and fail (CI installs the venv).
package enum TestPython {
    /// The repository's root folder.
    package static let packageRoot = Repository.root
    /// Whether the tests run under CI (`CI` set and non-empty).
    package static let isCI = !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
    /// The interpreter, when one with the needed packages exists.
    package static let python: URL? = find()
    /// Why Python-dependent tests were skipped.
    package static let skipMessage =
        "no Python with onnx, onnxruntime and numpy: set PRUNEKIT_PYTHON or run Scripts/setup-python.sh"
    /// Whether tests that need Python should run (always on CI, where a missing Python then fails them).
    package static let enabled = python != nil || isCI

    /// A script under `Scripts/`.
    package static func script(_ name: String) -> URL { Repository.script(name) }

    /// The interpreter for a check that needs it; without one the current test stops here and is reported as
    /// skipped (what it checked before still counts), except under CI, where a missing Python is a failure.
    ///
    /// - Throws: the cancellation that marks the test skipped, or (under CI) an error after recording an issue.
    package static func required(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        if let python { return python }
        if isCI {
            Issue.record("CI is set but \(skipMessage)", sourceLocation: sourceLocation)
            throw Missing()
        }
        if Test.current?.isParameterized == true {
            // Swift Testing 6.3 reports a cancelled case of a parameterized test as passed; a known issue makes the
            // skip visible in the output.
            withKnownIssue(Comment(rawValue: "skipped"), sourceLocation: sourceLocation) {
                Issue.record(Comment(rawValue: skipMessage), sourceLocation: sourceLocation)
            }
        }
        try Test.cancel(Comment(rawValue: skipMessage), sourceLocation: sourceLocation)
    }

    /// Thrown under CI when Python is missing (the issue is recorded first).
    private struct Missing: Error {}

    /// Runs `executable` with `arguments`, returning its exit status and combined output.
    package static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
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

    /// Whether ``python`` imports every module in `modules` (e.g. `compressed_tensors, torch`).
    package static func imports(_ modules: String) -> Bool {
        guard let python, let result = try? run(python, ["-c", "import \(modules)"]) else { return false }
        return result.status == 0
    }

    /// Whether the compressed-tensors library (and torch) can be imported: tests that run its decompressor need it,
    /// and run (to fail) on CI, whose venv installs it from `Scripts/requirements-test.txt`.
    package static let hasCompressedTensors = imports("compressed_tensors, torch, safetensors")

    private static func find() -> URL? {
        let environment = ProcessInfo.processInfo.environment["PRUNEKIT_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        let candidate =
            environment.map { URL(fileURLWithPath: $0) } ?? packageRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: candidate.path),
            let result = try? run(candidate, ["-c", "import onnx, onnxruntime, numpy"]), result.status == 0
        else { return nil }
        return candidate
    }
}
