import Foundation
import PruneFormats
import PruneTestSupport
import Testing

/// The transformer fixtures' removal check: half of every head and neuron group removed by `prune run`, and ONNX
/// Runtime's output on the pruned file (shared by the encoder and decoder tests).
enum HalfRemoval {
    /// Runs `prune run MODEL -o DIRECTORY/STEM.pruned.onnx --granularity unit --scorer magnitude:p=2 --selector
    /// layer:sparsity=0.5,rounding=floor-keep --rewriter remove` (and `flags`) and returns the pruned file.
    static func prune(_ model: URL, stem: String, into directory: URL, flags: [String] = []) throws -> URL {
        let pruned = directory.appendingPathComponent("\(stem).pruned.onnx")
        let run = try PruneBinary.run([
            "run", model.path, "-o", pruned.path, "--granularity", "unit", "--scorer", "magnitude:p=2",
            "--selector", "layer:sparsity=0.5,rounding=floor-keep", "--rewriter", "remove",
        ] + flags)
        try #require(run.status == 0, "prune run: \(run.stderr)")
        return pruned
    }

    /// ONNX Runtime's `output` on `pruned` for the inputs in `io` (`Scripts/ort_run.py --check`), or nil — with an
    /// issue recorded under CI — when Python with onnxruntime is absent.
    static func onnxRuntime(_ pruned: URL, io: URL, output: String, stem: String, in directory: URL) throws -> [Float]? {
        guard let python = TestPython.python else {
            if TestPython.isCI { Issue.record("CI is set but \(TestPython.skipMessage)") }
            return nil
        }
        let ortOutputs = directory.appendingPathComponent("\(stem).pruned.ort.safetensors")
        let ort = try TestPython.run(
            python, [TestPython.script("ort_run.py").path, pruned.path, io.path, ortOutputs.path, "--check"])
        try #require(ort.status == 0, "ort_run.py: \(ort.output)")
        return try SafetensorsDocument(url: ortOutputs).model.parameter(named: output).tensor.floatValues()
    }
}
