import Foundation
import PruneCore
import PruneFormats
import PruneStructure
import PruneTestSupport
import Testing

/// TensorFlow-style "same" padding as efficientnet-lite-pytorch writes it (`Fixtures/samepad/make_samepad.py`):
/// each `Pad`'s pads come from a ConstantOfShape → Concat → Reshape → Slice (step −1) → Transpose → Reshape →
/// Cast sub-graph the exporter does not fold. Shape folding must resolve it so that the Pads fold into their Convs and
/// every channel group is found.
@Suite("Same-padding export (EfficientNet-Lite style)")
struct SamePaddingExportTests {
    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/samepad")
    static let model = fixtures.appendingPathComponent("model.onnx")

    /// The groups the architecture has (derived by hand in make_samepad.py): one per channel-producing Conv whose
    /// channels are not tied to another's (a depthwise Conv joins its producer's group, the two projects around the
    /// skip Add are one group), and the classifier's outputs, which reach the graph output.
    static let prunableProducers: Set<String> = [
        "/stem/stem.0/Conv", "/block1/block1.3/Conv", "/block2/block2.0/Conv", "/block2/block2.6/Conv",
        "/block3/block3.0/Conv", "/head/head.0/Conv",
    ]

    @Test("The computed pads fold: every Pad and its pads sub-graph go, and every group is found")
    func groupsFound() throws {
        let document = try ONNXDocument(url: Self.model)
        let ops = Set(document.proto.graph.node.map(\.opType))
        #expect(ops.isDisjoint(with: ["Pad", "ConstantOfShape", "Slice", "Transpose", "Cast"]), "\(ops.sorted())")
        let analysis = try StructureAnalysis(model: document.model)
        #expect(analysis.groups.count == 7)
        #expect(Set(analysis.groups.filter(\.isPrunable).map(\.name)) == Self.prunableProducers)
    }

    @Test("The folded model computes what ONNX Runtime computes on the file as exported")
    func outputsUnchanged() throws {
        let io = try SafetensorsDocument(url: Self.fixtures.appendingPathComponent("io.safetensors")).model
        let input = try io.parameter(named: "input").tensor
        let recorded = try io.parameter(named: "output").tensor.floatValues()
        #expect(close(try RealExportTests.interpreterOutput(Self.model, input: input), recorded, tolerance: 1e-4))
        let python = try TestPython.required()
        let directory = try Harness().directory
        let document = try ONNXDocument(url: Self.model)
        let written = directory.appendingPathComponent("folded.onnx")
        _ = try document.write(document.model, to: written, metadata: [:], overwrite: false)
        let compare = try TestPython.run(
            python, [TestPython.script("ort_compare.py").path, Self.model.path, written.path])
        #expect(compare.status == 0 && compare.output.contains("OK"), "ort_compare.py: \(compare.output)")
    }

    @Test("Removal at 0.5 halves every group; ONNX Runtime runs the result and the interpreter agrees with it")
    func removal() throws {
        let directory = try Harness().directory
        let pruned = directory.appendingPathComponent("pruned.onnx")
        let run = try PruneBinary.run([
            "run", Self.model.path, "-o", pruned.path, "--granularity", "unit", "--selector", "layer:sparsity=0.5",
            "--rewriter", "remove",
        ])
        try #require(run.status == 0, "prune run: \(run.stderr)")
        let model = try ONNXDocument(url: pruned).model
        // The head's 32 channels are the Linear's inputs: half remain.
        #expect(try model.parameter(named: "fc.weight").tensor.shape == [10, 16])
        let python = try TestPython.required()
        let ortOutputs = directory.appendingPathComponent("pruned.ort.safetensors")
        let ort = try TestPython.run(
            python,
            [TestPython.script("ort_run.py").path, pruned.path,
             Self.fixtures.appendingPathComponent("io.safetensors").path, ortOutputs.path])
        try #require(ort.status == 0, "ort_run.py: \(ort.output)")
        let io = try SafetensorsDocument(url: Self.fixtures.appendingPathComponent("io.safetensors")).model
        let want = try SafetensorsDocument(url: ortOutputs).model.parameter(named: "output").tensor.floatValues()
        let got = try RealExportTests.interpreterOutput(pruned, input: io.parameter(named: "input").tensor)
        #expect(close(got, want, tolerance: 1e-4))
    }
}
