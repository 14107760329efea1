import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneTestSupport
import Testing

/// The ONNX checker and ONNX Runtime as real clients of what PruneKit writes (`Scripts/onnx_check.py`).
///
/// Needs a Python with `onnx`, `onnxruntime` and `numpy`: `$PRUNEKIT_PYTHON`, else `<package root>/.venv/bin/python`.
/// Without one the test is skipped with a message — except when `CI` is set, where it fails.
@Suite("ONNX checker and ONNX Runtime")
struct ONNXRuntimeCheckTests {
    static let script = TestPython.script("onnx_check.py")
    static let isCI = TestPython.isCI
    static let python = TestPython.python

    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try TestPython.run(executable, arguments)
    }

    /// Zeroes every third element of each default candidate.
    static func masked(_ model: Model) throws -> Model {
        var result = model
        for target in try TargetFilter().resolve(in: model).targets {
            let tensor = try model.parameter(named: target.name).tensor
            let mask = Mask(count: tensor.elementCount, setting: stride(from: 0, to: tensor.elementCount, by: 3))
            try result.setTensor(tensor.zeroing(mask), for: target.name)
        }
        return result
    }

    @Test(
        "Masked models written by PruneKit pass onnx.checker (full check) and run in ONNX Runtime",
        .enabled(
            if: python != nil || isCI,
            "no Python with onnx, onnxruntime and numpy: set PRUNEKIT_PYTHON or create .venv (pip install onnx onnxruntime numpy)"
        ))
    func checkerAndRuntimeAcceptOutputs() throws {
        let python = try TestPython.required()
        let directory = try TemporaryDirectory()
        var inputs: [URL] = []
        for (name, model) in [
            ("mlp", try TestModels.mlp()), ("matmul", TestModels.matMul()), ("conv", TestModels.conv()),
        ] {
            let url = directory.file("\(name).onnx")
            try TestModels.write(model, to: url)
            inputs.append(url)
        }
        let (external, side) = try TestModels.external()
        try TestModels.write(external, to: directory.file("external.onnx"))
        try Data(side).write(to: directory.file(TestModels.sideName))
        inputs.append(directory.file("external.onnx"))
        inputs.append(try Fixtures.url("python_mlp.onnx"))
        inputs.append(try Fixtures.url("python_external.onnx"))

        var outputs: [URL] = []
        for input in inputs {
            let document = try ONNXDocument(url: input)
            let output = directory.file(input.deletingPathExtension().lastPathComponent + ".masked.onnx")
            _ = try document.write(
                ONNXRuntimeCheckTests.masked(document.model), to: output, metadata: ["prunekit": "test"],
                overwrite: false)
            outputs.append(output)
        }
        // The forced move to external data (what models over 2 GB get) must satisfy the checker too.
        try TestModels.write(TestModels.wide(), to: directory.file("wide.onnx"))
        let wide = try ONNXDocument(url: directory.file("wide.onnx"))
        let forced = directory.file("wide.external.onnx")
        _ = try ONNXWriter(document: wide).write(
            ONNXRuntimeCheckTests.masked(wide.model), to: forced, metadata: [:], overwrite: false, inlineLimit: 4096)
        #expect(FileManager.default.fileExists(atPath: forced.path + ".data"))
        outputs.append(forced)

        let result = try ONNXRuntimeCheckTests.run(python, [ONNXRuntimeCheckTests.script.path] + outputs.map(\.path))
        #expect(result.status == 0, "\(result.output)")
        for output in outputs {
            #expect(result.output.contains("OK \(output.path)"), "\(result.output)")
        }
    }
}
