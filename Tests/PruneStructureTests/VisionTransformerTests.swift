import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure
import PruneTestSupport
import Testing

/// torchvision's VisionTransformer as `torch.onnx.export(dynamo=False)` writes it (`Fixtures/transformers/
/// make_tiny_vit.py`: 2 layers, hidden 32, 4 heads of 8, MLP 64, batch 3): the heads of nn.MultiheadAttention's
/// fused in_proj and the opt-in hidden width, against PyTorch's own removal of the same heads, neurons and channels.
@Suite("Vision transformer")
struct VisionTransformerTests {
    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/transformers")
    static let model = fixtures.appendingPathComponent("tiny_vit.onnx")
    static let io = fixtures.appendingPathComponent("tiny_vit.io.safetensors")
    static let attention = "/encoder/layers/encoder_layer_0/self_attention"

    static func tensor(_ name: String) throws -> Tensor {
        try SafetensorsDocument(url: io).model.parameter(named: name).tensor
    }

    static func logits(_ url: URL) throws -> [Float] {
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run(["input": try RuntimeTensor(try tensor("input"))])
        return try #require(outputs["output"]).tensor().floatValues()
    }

    /// The weight input of the node named `node`.
    static func weight(of node: String, in document: ONNXDocument) throws -> String {
        try #require(document.proto.graph.node.first { $0.name == node }).input[1]
    }

    static func describe(_ member: DependencyGroup.Member) -> String {
        "\(member.slice.parameter):\(member.slice.axis):\(member.slice.offset):\(member.slice.width):\(member.scored)"
    }

    @Test("The fused in_proj's heads: Q, K and V columns of each head, its bias entries, the out_proj columns")
    func headGroup() throws {
        let document = try ONNXDocument(url: Self.model)
        let analysis = try StructureAnalysis(model: document.model)
        let heads = try #require(analysis.group(named: "\(Self.attention)/MatMul"))
        #expect(heads.isPrunable, "\(heads.exclusion ?? "")")
        #expect(heads.unitCount == 4)
        // Head u: in_proj (stored [in, out] = [32, 96]) columns 8u..<8u+8 of the Q, K and V parts (offsets 0, 32,
        // 64), the same in_proj_bias entries, out_proj.weight ([out, in] in Gemm transB=1) columns 8u..<8u+8.
        let inProjection = try Self.weight(of: "\(Self.attention)/MatMul", in: document)
        let bias = "encoder.layers.encoder_layer_0.self_attention.in_proj_bias"
        let output = "encoder.layers.encoder_layer_0.self_attention.out_proj.weight"
        #expect(
            Set(heads.members.map(Self.describe)) == [
                "\(inProjection):1:0:8:true", "\(inProjection):1:32:8:true", "\(inProjection):1:64:8:true",
                "\(bias):0:0:8:false", "\(bias):0:32:8:false", "\(bias):0:64:8:false", "\(output):1:0:8:true",
            ])
        #expect(heads.members.count == 7)
        // `[s, b, 96] → [s, b, 3, 32]`: the head's 8 features sit at 8u of the last axis, in every stacked part.
        let stacked = try #require(heads.activations.first { $0.value == "\(Self.attention)/Reshape_2_output_0" })
        let stackedLayout: [Int] = [stacked.axis, stacked.offset, stacked.width, stacked.repeats]
        #expect(stackedLayout == [3, 0, 8, 1])
        // `q.view(s, b·h, d)` with b = 3, h = 4: head u of sample k is row k·4 + u of axis 1.
        let merged = try #require(heads.activations.first { $0.value == "\(Self.attention)/Reshape_3_output_0" })
        #expect(merged.axis == 1)
        #expect(merged.indices(of: [1]) == [1, 5, 9])
        #expect(merged.indices(of: [0, 3]) == [0, 4, 8, 3, 7, 11])
        // `[b·h, s, d] → [b, h, s, d]`: the heads are axis 1 again.
        let split = try #require(heads.activations.first { $0.value == "\(Self.attention)/Reshape_6_output_0" })
        let splitLayout: [Int] = [split.axis, split.offset, split.width, split.repeats]
        #expect(splitLayout == [1, 0, 1, 1])
        #expect(analysis.group(named: "/encoder/layers/encoder_layer_1/self_attention/MatMul")?.unitCount == 4)
    }

    @Test("The hidden width is refused by default with the reason, and a group of every embedding, LayerNorm and projection when asked for")
    func hiddenWidth() throws {
        let document = try ONNXDocument(url: Self.model)
        let refused = try #require(try StructureAnalysis(model: document.model).group(named: "/conv_proj/Conv"))
        #expect(refused.isHiddenWidth)
        #expect(refused.exclusion == StructureAnalysis.hiddenWidthReason)
        #expect(try StructureAnalysis(model: document.model).groups.filter(\.isPrunable).count == 4)

        let analysis = try StructureAnalysis(model: document.model, includingHiddenWidth: true)
        #expect(analysis.groups.filter(\.isPrunable).count == 5)
        let hidden = try #require(analysis.group(named: "/conv_proj/Conv"))
        #expect(hidden.isPrunable, "\(hidden.exclusion ?? "")")
        #expect(hidden.unitCount == 32)
        var expected: Set<String> = [
            "conv_proj.weight:0:true", "conv_proj.bias:0:false", "class_token:2:false",
            "encoder.pos_embedding:2:false", "encoder.ln.weight:0:true", "encoder.ln.bias:0:false",
            "heads.head.weight:1:true",
        ]
        for layer in 0..<2 {
            let prefix = "encoder.layers.encoder_layer_\(layer)"
            let nodes = "/encoder/layers/encoder_layer_\(layer)"
            let inProjection = try Self.weight(of: "\(nodes)/self_attention/MatMul", in: document)
            let up = try Self.weight(of: "\(nodes)/mlp/mlp.0/MatMul", in: document)
            let down = try Self.weight(of: "\(nodes)/mlp/mlp.3/MatMul", in: document)
            expected.formUnion([
                "\(prefix).ln_1.weight:0:true", "\(prefix).ln_1.bias:0:false", "\(prefix).ln_2.weight:0:true",
                "\(prefix).ln_2.bias:0:false", "\(inProjection):0:true",
                "\(prefix).self_attention.out_proj.weight:0:true", "\(prefix).self_attention.out_proj.bias:0:false",
                "\(up):0:true", "\(down):1:true", "\(prefix).mlp.3.bias:0:false",
            ])
        }
        // One channel per unit in every member.
        #expect(hidden.members.allSatisfy { $0.slice.offset == 0 && $0.slice.width == 1 })
        #expect(Set(hidden.members.map { "\($0.slice.parameter):\($0.slice.axis):\($0.scored)" }) == expected)
    }

    @Test("Heads merged into the batch axis and read by anything but Transpose or their split are refused, naming the node")
    func mergedHeadsRefused() throws {
        var proto = try Onnx_ModelProto(serializedBytes: Data(contentsOf: Self.model))
        // An Identity between `q.view(s, b·h, d)` and its Transpose: the analysis cannot follow heads through it.
        let merged = "\(Self.attention)/Reshape_3_output_0"
        let reader = try #require(proto.graph.node.firstIndex { $0.input.first == merged })
        var identity = Onnx_NodeProto()
        identity.opType = "Identity"
        identity.name = "inserted"
        identity.input = [merged]
        identity.output = ["inserted_output"]
        proto.graph.node[reader].input[0] = "inserted_output"
        proto.graph.node.insert(identity, at: reader)
        let document = try Harness().open(proto, as: "tiny_vit_identity")
        let heads = try #require(try StructureAnalysis(model: document.model).group(named: "\(Self.attention)/MatMul"))
        #expect(
            heads.exclusion
                == "node 'inserted' (Identity): reads attention heads merged into the batch axis; only Transpose and "
                + "the Reshape that splits them out are understood")
    }

    @Test("Removing half the heads and neurons (no hidden width) gives PyTorch's result; ONNX Runtime agrees")
    func removal() throws {
        let dense = try Self.tensor("output").floatValues()
        #expect(close(try Self.logits(Self.model), dense, tolerance: 1e-4))
        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(Self.model, stem: "tiny_vit", into: directory)
        let document = try ONNXDocument(url: pruned)
        let inProjection = try Self.weight(of: "\(Self.attention)/MatMul", in: document)
        #expect(try document.model.parameter(named: inProjection).tensor.shape == [32, 48])
        #expect(
            try document.model.parameter(named: "encoder.layers.encoder_layer_0.self_attention.out_proj.weight").tensor
                .shape == [32, 16])
        let got = try Self.logits(pruned)
        let want = try Self.tensor("heads").floatValues()
        #expect(close(got, want, tolerance: 1e-4), "interpreter \(got.prefix(4)) PyTorch \(want.prefix(4))")
        #expect(!close(got, dense, tolerance: 1e-2))
        // Every head Reshape was lowered: the pruned file analyses to 2 heads per layer.
        let again = try StructureAnalysis(model: document.model)
        #expect(again.group(named: "\(Self.attention)/MatMul")?.unitCount == 2)
        guard
            let ort = try HalfRemoval.onnxRuntime(pruned, io: Self.io, output: "output", stem: "tiny_vit", in: directory)
        else { return }
        #expect(close(got, ort, tolerance: 1e-4))
    }

    @Test("With --include-hidden-width half of every group goes, as PyTorch's smaller ViT; ONNX Runtime agrees")
    func removalWithHiddenWidth() throws {
        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(
            Self.model, stem: "tiny_vit_hidden", into: directory, flags: ["--include-hidden-width"])
        let document = try ONNXDocument(url: pruned)
        let inProjection = try Self.weight(of: "\(Self.attention)/MatMul", in: document)
        #expect(try document.model.parameter(named: inProjection).tensor.shape == [16, 48])
        #expect(try document.model.parameter(named: "conv_proj.weight").tensor.shape == [16, 3, 8, 8])
        #expect(try document.model.parameter(named: "class_token").tensor.shape == [1, 1, 16])
        #expect(try document.model.parameter(named: "encoder.pos_embedding").tensor.shape == [1, 17, 16])
        #expect(try document.model.parameter(named: "heads.head.weight").tensor.shape == [10, 16])
        let got = try Self.logits(pruned)
        let want = try Self.tensor("hidden").floatValues()
        #expect(close(got, want, tolerance: 1e-4), "interpreter \(got.prefix(4)) PyTorch \(want.prefix(4))")
        guard
            let ort = try HalfRemoval.onnxRuntime(
                pruned, io: Self.io, output: "output", stem: "tiny_vit_hidden", in: directory)
        else { return }
        #expect(close(got, ort, tolerance: 1e-4))
    }
}
