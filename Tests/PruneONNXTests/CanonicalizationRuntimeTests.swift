import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneTestSupport
import Testing

/// Load-time canonicalisation (Constant weights promoted, Identity chains bypassed) must change no output: ONNX
/// Runtime runs each original and its rewritten copy on the same inputs (`Scripts/ort_compare.py`).
@Suite("Canonicalisation keeps every output")
struct CanonicalizationRuntimeTests {
    @Test(
        "Every test-corpus model canonicalisation changes gives ONNX Runtime the same outputs",
        .enabled(if: TestPython.enabled && ONNXTestDataTests.available, "needs Python and libonnx-testdata"))
    func corpusOutputsUnchanged() throws {
        guard let python = TestPython.python else {
            Issue.record("CI is set but no Python with onnx, onnxruntime and numpy (PRUNEKIT_PYTHON or .venv)")
            return
        }
        let models = ONNXTestDataTests.models(in: ["pytorch-converted", "pytorch-operator", "simple"])
        let directory = try TemporaryDirectory()
        var pairs: [String] = []
        for (index, url) in models.enumerated() {
            var proto = try TestModels.decode(url)
            let summary = ONNXCanonicalization.apply(to: &proto.graph)
            guard summary != ONNXCanonicalization.Summary() else { continue }
            let document = try ONNXDocument(url: url)
            let output = directory.file("\(index).onnx")
            _ = try document.write(document.model, to: output, metadata: [:], overwrite: false)
            pairs += [url.path, output.path]
        }
        #expect(pairs.count >= 20, "the corpus should exercise canonicalisation (\(pairs.count / 2) models)")
        let result = try TestPython.run(python, [TestPython.script("ort_compare.py").path] + pairs)
        #expect(result.status == 0, "\(result.output.split(separator: "\n").filter { $0.hasPrefix("FAIL") })")
    }
}
