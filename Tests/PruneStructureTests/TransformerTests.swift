import Foundation
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure
import PruneTestSupport
import Testing

/// Attention heads and feed-forward neurons on a tiny BERT-like encoder exported by `torch.onnx.export`
/// (`Fixtures/transformers/make_tiny_bert.py`), against PyTorch's own removal of the same heads and neurons.
@Suite("Transformers")
struct TransformerTests {
    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/transformers")
    static let model = fixtures.appendingPathComponent("tiny_bert.onnx")
    static let io = fixtures.appendingPathComponent("tiny_bert.io.safetensors")

    static func tensor(_ name: String) throws -> Tensor {
        try SafetensorsDocument(url: io).model.parameter(named: name).tensor
    }

    static func embedding(_ url: URL) throws -> [Float] {
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run([
            "input_ids": try RuntimeTensor(try tensor("input_ids")),
            "attention_mask": try RuntimeTensor(try tensor("attention_mask")),
        ])
        return try #require(outputs["embedding"]).tensor().floatValues()
    }

    @Test("Heads are groups of whole heads across Q, K, V and the output projection; neurons cross the GELU")
    func analysis() throws {
        let analysis = try StructureAnalysis(model: try ONNXDocument(url: Self.model).model)
        let heads = try #require(analysis.group(named: "/blocks.0/query/MatMul"))
        #expect(heads.isPrunable)
        #expect(heads.unitCount == 4)
        // Q, K and V columns, their biases, and the output projection's rows, 8 per head.
        let slices = Set(heads.members.map { "\($0.slice.axis):\($0.slice.width):\($0.scored)" })
        #expect(heads.members.count == 7)
        #expect(slices == ["1:8:true", "0:8:false", "0:8:true"])
        #expect(heads.members.filter(\.scored).count == 4)
        let neurons = try #require(analysis.group(named: "/blocks.1/intermediate/MatMul"))
        #expect(neurons.isPrunable)
        #expect(neurons.unitCount == 64)
        #expect(neurons.members.count == 3)
        // The residual stream reaches the pooled output: never pruned.
        let residual = try #require(analysis.group(named: "/blocks.0/attention_output/MatMul"))
        #expect(residual.exclusion == "its channels reach the graph output 'embedding'")
        #expect(analysis.groups.filter(\.isPrunable).count == 4)
    }

    @Test("Removing half the heads and neurons gives PyTorch's output for the same removal; ONNX Runtime agrees")
    func removal() throws {
        let dense = try Self.tensor("dense").floatValues()
        #expect(close(try Self.embedding(Self.model), dense, tolerance: 1e-4))

        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(Self.model, stem: "tiny_bert", into: directory)
        let got = try Self.embedding(pruned)
        let want = try Self.tensor("pruned").floatValues()
        #expect(close(got, want, tolerance: 1e-4), "interpreter \(got.prefix(4)) PyTorch \(want.prefix(4))")
        #expect(!close(got, dense, tolerance: 1e-2))

        // The computed head shapes were lowered: the pruned model analyses to 2 heads and 32 neurons per layer.
        let again = try StructureAnalysis(model: try ONNXDocument(url: pruned).model)
        #expect(again.group(named: "/blocks.1/query/MatMul")?.unitCount == 2)
        #expect(again.group(named: "/blocks.0/intermediate/MatMul")?.unitCount == 32)

        guard
            let ortEmbedding = try HalfRemoval.onnxRuntime(
                pruned, io: Self.io, output: "embedding", stem: "tiny_bert", in: directory)
        else { return }
        #expect(close(got, ortEmbedding, tolerance: 1e-4))
    }

    @Test("ONNX Runtime's fused attention operators are refused with that reason")
    func fusedAttention() throws {
        let proto = TestGraphs.blocked(op: "Attention", domain: "com.microsoft")
        let document = try Harness().open(proto, as: "model")
        let analysis = try StructureAnalysis(model: document.model)
        let reason = try #require(analysis.group(named: "conv1")?.exclusion)
        #expect(reason.hasPrefix("node 'mystery' (Attention): ONNX Runtime's fused attention operator"))
    }

    @Test("torchvision's ViT export (Fixtures/exports): the fused in_proj is a head group, not 96 features")
    func stackedInProjection() throws {
        let model = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/exports/vit_b_16.onnx")
        let analysis = try StructureAnalysis(model: try ONNXDocument(url: model).model)
        let prefix = "/encoder/layers/encoder_layer_0/self_attention"
        let inProjection = try #require(analysis.group(named: "\(prefix)/MatMul"))
        // hidden 32, 2 heads of 16: Q, K and V stacked as 3 parts on a new axis, picked by Gather.
        #expect(inProjection.unitCount == 2)
        #expect(inProjection.isPrunable, "\(inProjection.exclusion ?? "")")
        #expect(Set(inProjection.members.filter { $0.slice.axis == 1 && $0.scored }.map(\.slice.offset)) == [0, 32, 64])
        #expect(analysis.group(named: "/encoder/layers/encoder_layer_0/mlp/mlp.0/MatMul")?.isPrunable == true)
        #expect(analysis.group(named: "/conv_proj/Conv")?.exclusion == StructureAnalysis.hiddenWidthReason)
    }
}
