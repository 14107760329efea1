import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneRuntime
@testable import PruneStructure
import PruneTestSupport
import Testing

/// Exported models share equal initializers between nodes of different groups (untrained BatchNorm layers, tied
/// weights), some through `Identity` nodes; removal must give each cut its own copy.
@Suite("Shared initializers and verified rewrites")
struct SharedParameterTests {
    /// Conv → BN → Relu → Conv → BN → Relu → Conv → Flatten, both BNs reading one set of four tensors, the second
    /// through Identity nodes (as `torch.onnx.export` writes de-duplicated initializers).
    static func sharedNorms() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "shared")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 4)
        b.batchNorm("c1", "n1", name: "bn", channels: 4)
        b.node("Relu", ["n1"], ["r1"], name: "relu1")
        b.conv("r1", "c2", name: "conv2", in: 4, out: 4)
        for tensor in ["weight", "bias", "running_mean", "running_var"] {
            b.node("Identity", ["bn.\(tensor)"], ["bn2.\(tensor)"], name: "alias.\(tensor)")
        }
        b.node(
            "BatchNormalization", ["c2", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var"], ["n2"],
            name: "bn2")
        b.node("Relu", ["n2"], ["r2"], name: "relu2")
        b.conv("r2", "c3", name: "conv3", in: 4, out: 2)
        b.node("Flatten", ["c3"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }

    @Test("A BatchNorm tensor two groups share gets one private copy per cut, and ONNX Runtime runs the result")
    func sharedNormsAreSeparated() throws {
        let harness = try Harness()
        let document = try harness.open(Self.sharedNorms(), as: "shared")
        let analysis = try StructureAnalysis(model: document.model)
        #expect(analysis.groups.filter(\.isPrunable).map(\.name) == ["conv1", "conv2"])
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "shared-removed")
        let shapes = Dictionary(uniqueKeysWithValues: removed.model.parameters.map { ($0.name, $0.tensor.shape) })
        #expect(shapes["bn.weight"] == nil, "the original is read by no one after both cuts")
        #expect(shapes["bn.weight.pruned"] == [2])
        #expect(shapes["bn.weight.pruned.1"] == [2])
        #expect(shapes["conv2.weight"] == [2, 2, 3, 3])

        let shape = [2, 3, 5, 5]
        let input = Harness.inputs(shape.reduce(1, *))
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        #expect(got.count == 100)
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: got)
    }

    @Test("A shared tensor that a node outside the group also reads keeps its original for that reader")
    func outsideReaderKeepsTheOriginal() throws {
        var b = LayerGraphBuilder(name: "outside")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 4)
        b.weight("scale", [1, 4, 1, 1])
        b.node("Mul", ["c1", "scale"], ["m"], name: "mul")
        b.node("Relu", ["m"], ["r"], name: "relu")
        b.conv("r", "c2", name: "conv2", in: 4, out: 2)
        b.node("Flatten", ["c2"], ["f"], name: "flatten")
        b.node("ReduceSum", ["scale"], ["total"], name: "sum", ints: ["keepdims": 0])
        b.node("Add", ["f", "total"], ["logits"], name: "add")
        b.output("logits", [nil, 50])
        let harness = try Harness()
        let document = try harness.open(b.model, as: "outside")
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "outside-removed")
        #expect(removed.model["scale"]?.tensor.shape == [1, 4, 1, 1])
        #expect(removed.model["scale.pruned"]?.tensor.shape == [1, 2, 1, 1])
        let shape = [1, 3, 5, 5]
        let input = Harness.inputs(shape.reduce(1, *))
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: got)
    }

    @Test("Verification refuses a rewrite that cut a weight without its BatchNorm, naming the node")
    func verificationCatchesABrokenRewrite() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.cnn(), as: "cnn")
        var broken = document.model
        let weight = try broken.parameter(named: "conv1.weight").tensor
        try broken.setTensor(weight.removing([0], along: 0), for: "conv1.weight")
        try broken.setTensor(
            try broken.parameter(named: "conv1.bias").tensor.removing([0], along: 0), for: "conv1.bias")
        let error = #expect(throws: PruneError.self) {
            try RewriteVerification.verify(broken, original: document.model, rewriter: "test")
        }
        #expect(error?.message.contains("node 'bn1' (BatchNormalization)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("nothing was written") == true)
        try RewriteVerification.verify(document.model, original: document.model, rewriter: "test")
    }

    @Test("Verification runs the model: a kernel-level failure the shapes do not reveal is caught")
    func verificationRunsTheInterpreter() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.cnn(reshape: true), as: "cnn")
        var broken = document.model
        let values: [Int64] = [0, 53]
        try broken.setTensor(
            Tensor(dtype: .i64, shape: [2], bytes: values.withUnsafeBytes { TensorBytes(copying: $0) }),
            for: "flat_shape")
        let error = #expect(throws: PruneError.self) {
            try RewriteVerification.verify(broken, original: document.model, rewriter: "test")
        }
        #expect(error?.message.contains("flatten") == true, "\(error?.message ?? "")")
    }
}
