import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `prune run --fidelity-data`: the model after each stage measured against the dense model, checked against ONNX
/// Runtime's accuracy on the same files.
@Suite struct StageFidelityTests {
    static let digits = Repository.root.appending(path: "Examples/digits-cnn")

    static func job(_ output: URL, stages: [(String, String, String)], input: URL = digits.appending(path: "model.onnx"))
        throws -> PruneJob
    {
        var job = PruneJob(
            input: input, output: output,
            recipe: Recipe(
                stages: try stages.map { name, selector, rewriter in
                    Recipe.StageEntry(
                        name: name, scorer: try ComponentSpec(parsing: "magnitude"),
                        selector: try ComponentSpec(parsing: selector), rewriter: try ComponentSpec(parsing: rewriter))
                }), threads: 1)
        job.stageFidelity = StageFidelityOptions(
            data: digits.appending(path: "test.safetensors"), labels: "labels", metric: .accuracy)
        return job
    }

    /// ONNX Runtime's accuracy of `model` on the digits test set (ort_run.py), or nil without Python.
    static func ortAccuracy(_ model: URL, in directory: TemporaryDirectory) throws -> Double? {
        guard let python = TestPython.python else { return nil }
        let outputs = directory.file(model.lastPathComponent + ".ort.safetensors")
        let run = try TestPython.run(
            python,
            [TestPython.script("ort_run.py").path, model.path, digits.appending(path: "test.safetensors").path, outputs.path])
        try #require(run.status == 0, "ort_run.py: \(run.output)")
        let logits = try #require(try SafetensorsDocument(url: outputs).model.parameters.first).tensor
        let labels = try SafetensorsDocument(url: digits.appending(path: "test.safetensors")).model
            .parameter(named: "labels").tensor.floatValues()
        let values = logits.floatValues()
        let classes = logits.shape[1]
        let correct = (0..<labels.count).filter { sample in
            let row = values[(sample * classes)..<((sample + 1) * classes)]
            return Float(row.firstIndex(of: row.max()!)! - sample * classes) == labels[sample]
        }.count
        return Double(correct) / Double(labels.count)
    }

    @Test("Each stage's accuracy is the accuracy ONNX Runtime measures on that stage's model")
    func perStageMatchesRuntime() throws {
        let directory = try TemporaryDirectory()
        let both = directory.file("prune-quantize.onnx")
        let report = try PruneEngine().run(
            Self.job(both, stages: [("prune", "layer:sparsity=0.6", "mask"), ("quantize", "layer:sparsity=0", "quantize")]))
        let fidelity = try #require(report.fidelity)
        #expect(fidelity.metric == "accuracy")
        #expect(fidelity.samples == 540)
        // The dense digits CNN gets 534 of the 540 test images right (Docs/Quantization.md).
        #expect(abs(fidelity.dense - 534.0 / 540) < 1e-12)
        #expect(fidelity.stages.map(\.stage) == ["prune", "quantize"])
        #expect(fidelity.costs.count == 2)
        #expect(abs(fidelity.costs[0] - (fidelity.dense - fidelity.stages[0].fidelity)) < 1e-12)
        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        #expect((json?["fidelity"] as? [String: Any])?["metric"] as? String == "accuracy")

        // The first stage alone, written to its own file.
        let pruned = directory.file("prune.onnx")
        _ = try PruneEngine().run(Self.job(pruned, stages: [("prune", "layer:sparsity=0.6", "mask")]))
        guard let afterBoth = try Self.ortAccuracy(both, in: directory),
            let afterPrune = try Self.ortAccuracy(pruned, in: directory)
        else {
            _ = try TestPython.required()
            return
        }
        #expect(abs(fidelity.stages[0].fidelity - afterPrune) < 1e-12, "ONNX Runtime: \(afterPrune)")
        #expect(abs(fidelity.stages[1].fidelity - afterBoth) < 1e-12, "ONNX Runtime: \(afterBoth)")
    }

    @Test("--html-report: the page carries the measured fidelity per stage; an existing page is kept without --force")
    func htmlReport() throws {
        let directory = try TemporaryDirectory()
        var job = try Self.job(directory.file("out.onnx"), stages: [("prune", "layer:sparsity=0.5", "mask")])
        job.htmlReportFile = directory.file("report.html")
        let report = try PruneEngine().run(job)
        let page = try String(contentsOf: directory.file("report.html"), encoding: .utf8)
        #expect(page.contains("Fidelity per stage"))
        let value = String(format: "%.4f", try #require(report.fidelity?.stages.first?.fidelity))
        #expect(page.contains("after &#39;prune&#39;") || page.contains("after 'prune'"))
        #expect(page.contains(value))

        try Data("keep".utf8).write(to: directory.file("kept.html"))
        var again = try Self.job(directory.file("again.onnx"), stages: [("prune", "layer:sparsity=0.5", "mask")])
        again.htmlReportFile = directory.file("kept.html")
        let error = try #require(throws: PruneError.self) { try PruneEngine().run(again) }
        #expect(error.message.contains("kept.html already exists"), "\(error.message)")
        #expect(try String(contentsOf: directory.file("kept.html"), encoding: .utf8) == "keep")
        #expect(!FileManager.default.fileExists(atPath: directory.file("again.onnx").path))
    }

    @Test("A model without a graph is refused and nothing is written")
    func safetensorsRefused() throws {
        let directory = try TemporaryDirectory()
        let error = try #require(throws: PruneError.self) {
            try PruneEngine().run(
                Self.job(
                    directory.file("out.safetensors"), stages: [("prune", "layer:sparsity=0.5", "mask")],
                    input: Self.digits.appending(path: "model.safetensors")))
        }
        #expect(error.message.contains("--fidelity-data"), "\(error.message)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("out.safetensors").path))
    }
}
