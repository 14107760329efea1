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
        "Every model canonicalisation changes gives ONNX Runtime the same outputs (test corpus and built graphs)",
        .enabled(if: TestPython.enabled && ONNXTestDataTests.available, "needs Python and libonnx-testdata"))
    func corpusOutputsUnchanged() throws {
        let python = try TestPython.required()
        let directory = try TemporaryDirectory()
        var models = ONNXTestDataTests.models(in: ["pytorch-converted", "pytorch-operator", "simple"])
        for (name, model) in Self.builtModels() {
            let url = directory.file("\(name)-original.onnx")
            try TestModels.write(model, to: url)
            models.append(url)
        }
        var pairs: [String] = []
        for (index, url) in models.enumerated() {
            var proto = try TestModels.decode(url)
            let summary = ONNXCanonicalization.apply(to: &proto.graph, irVersion: proto.irVersion)
            guard summary != ONNXCanonicalization.Summary() else { continue }
            let document = try ONNXDocument(url: url)
            let output = directory.file("\(index).onnx")
            _ = try document.write(document.model, to: output, metadata: [:], overwrite: false)
            pairs += [url.path, output.path]
        }
        let result = try TestPython.run(python, [TestPython.script("ort_compare.py").path] + pairs)
        let lines = result.output.split(separator: "\n")
        #expect(result.status == 0, "\(lines.filter { $0.hasPrefix("FAIL") })")
        #expect(lines.filter { $0.hasPrefix("OK") }.count >= 3, "\(lines)")
    }

    /// Graphs with what exporters write: a Constant weight, an Identity chain to a weight, BatchNorm tensors
    /// shared through Identity nodes, and constant Pads before a Conv or pool.
    static func builtModels() -> [(String, Onnx_ModelProto)] {
        var value = Onnx_AttributeProto()
        value.name = "value"
        value.type = .tensor
        value.t = TestModels.floatTensor("", [4, 2], seed: 1)
        let constant = TestModels.graph(
            "constant",
            nodes: [
                TestModels.node("Constant", [], ["W"], name: "weights", [value]),
                TestModels.node("MatMul", ["x", "W"], ["y"], name: "mm"),
            ],
            inputs: [TestModels.valueInfo("x", [3, 4])], outputs: [TestModels.valueInfo("y", [3, 2])],
            initializers: [])
        let identity = TestModels.graph(
            "identity",
            nodes: [
                TestModels.node("Identity", ["W"], ["W1"], name: "id1"),
                TestModels.node("Identity", ["W1"], ["W2"], name: "id2"),
                TestModels.node("MatMul", ["x", "W2"], ["y"], name: "mm"),
                TestModels.node("MatMul", ["x", "W1"], ["z"], name: "mm2"),
            ],
            inputs: [TestModels.valueInfo("x", [3, 4])],
            outputs: [TestModels.valueInfo("y", [3, 2]), TestModels.valueInfo("z", [3, 2])],
            initializers: [TestModels.floatTensor("W", [4, 2], seed: 2)])
        var shared = LayerGraphBuilder(name: "shared")
        shared.input("input", [1, 3, 5, 5])
        shared.conv("input", "c1", name: "conv1", in: 3, out: 4)
        shared.batchNorm("c1", "n1", name: "bn", channels: 4)
        shared.conv("n1", "c2", name: "conv2", in: 4, out: 4)
        for tensor in ["weight", "bias", "running_mean", "running_var"] {
            shared.node("Identity", ["bn.\(tensor)"], ["bn2.\(tensor)"], name: "alias.\(tensor)")
        }
        shared.node(
            "BatchNormalization", ["c2", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var"],
            ["logits"], name: "bn2")
        shared.output("logits", [1, 4, 5, 5])
        return [
            ("constant", TestModels.model(constant)), ("identity", TestModels.model(identity)),
            ("shared", shared.model), ("branches", branchWeights()),
        ] + PadFoldingTests.foldable().map { ($0.0, $0.1) }
    }

    /// An `If` whose two branches each hold a Constant weight named `W` (as silero-vad's export does).
    static func branchWeights() -> Onnx_ModelProto {
        func branch(_ name: String, seed: Double) -> Onnx_AttributeProto {
            var value = Onnx_AttributeProto()
            value.name = "value"
            value.type = .tensor
            value.t = TestModels.floatTensor("", [4, 2], seed: seed)
            var attribute = Onnx_AttributeProto()
            attribute.name = name
            attribute.type = .graph
            attribute.g = TestModels.graph(
                name,
                nodes: [
                    TestModels.node("Constant", [], ["W"], name: "\(name).weights", [value]),
                    TestModels.node("MatMul", ["x", "W"], ["\(name).y"], name: "\(name).mm"),
                ],
                inputs: [], outputs: [TestModels.valueInfo("\(name).y", [3, 2])], initializers: [])
            return attribute
        }
        let graph = TestModels.graph(
            "branches",
            nodes: [
                TestModels.node(
                    "If", ["condition"], ["y"], name: "choose",
                    [branch("then_branch", seed: 3), branch("else_branch", seed: 4)])
            ],
            inputs: [TestModels.valueInfo("condition", [], elementType: 9), TestModels.valueInfo("x", [3, 4])],
            outputs: [TestModels.valueInfo("y", [3, 2])], initializers: [])
        return TestModels.model(graph)
    }
}
