import Foundation
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure
import PruneTestSupport
import Testing

/// Attention heads and feed-forward neurons of transformers' own GPT-2 (`GPT2LMHeadModel` from a config, exported by
/// `torch.onnx.export`; `Fixtures/transformers/make_tiny_gpt2.py`): Conv1D layers written as row Reshape → Gemm →
/// Reshape, a fused `c_attn` split into Q, K and V, head Reshapes with an inferred head count, the causal and padding
/// masks, gelu_new — against the same removal done in PyTorch.
@Suite("GPT-2 decoder")
struct DecoderTests {
    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/transformers")
    static let model = fixtures.appendingPathComponent("tiny_gpt2.onnx")
    static let io = fixtures.appendingPathComponent("tiny_gpt2.io.safetensors")

    static func tensor(_ name: String) throws -> Tensor {
        try SafetensorsDocument(url: io).model.parameter(named: name).tensor
    }

    static func logits(_ url: URL) throws -> [Float] {
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run([
            "input_ids": try RuntimeTensor(try tensor("input_ids")),
            "attention_mask": try RuntimeTensor(try tensor("attention_mask")),
        ])
        return try #require(outputs["logits"]).tensor().floatValues()
    }

    @Test("A head of the fused c_attn is a unit across its Q, K and V columns; neurons cross gelu_new")
    func analysis() throws {
        let analysis = try StructureAnalysis(model: try ONNXDocument(url: Self.model).model)
        let heads = try #require(analysis.group(named: "/gpt/transformer/h.0/attn/c_attn/Gemm"))
        #expect(heads.isPrunable, "\(heads.exclusion ?? "")")
        #expect(heads.unitCount == 4)
        // c_attn.weight is [32, 96]: head u is columns 8u..<8u+8 of Q (offset 0), K (32) and V (64), with the same
        // bias entries; c_proj.weight [32, 32] loses rows 8u..<8u+8.
        let attn = "gpt.transformer.h.0.attn"
        let slices = Set(heads.members.map { "\($0.slice.parameter)@\($0.slice.axis):\($0.slice.offset)+\($0.slice.width)u" })
        #expect(
            slices == [
                "\(attn).c_attn.weight@1:0+8u", "\(attn).c_attn.weight@1:32+8u", "\(attn).c_attn.weight@1:64+8u",
                "\(attn).c_attn.bias@0:0+8u", "\(attn).c_attn.bias@0:32+8u", "\(attn).c_attn.bias@0:64+8u",
                "\(attn).c_proj.weight@0:0+8u",
            ])
        #expect(heads.members.filter(\.scored).count == 4)
        let neurons = try #require(analysis.group(named: "/gpt/transformer/h.1/mlp/c_fc/Gemm"))
        #expect(neurons.isPrunable)
        #expect(neurons.unitCount == 64)
        #expect(neurons.members.count == 3)
        // The residual stream reaches the logits through the tied LM head.
        let residual = try #require(analysis.group(named: "/gpt/transformer/h.0/attn/c_proj/Gemm"))
        #expect(!residual.isPrunable)
        #expect(analysis.groups.filter(\.isPrunable).count == 4)
    }

    @Test("Removing half the heads and neurons gives PyTorch's logits for the same removal; ONNX Runtime agrees")
    func removal() throws {
        let dense = try Self.tensor("dense").floatValues()
        #expect(close(try Self.logits(Self.model), dense, tolerance: 1e-4))

        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(Self.model, stem: "tiny_gpt2", into: directory)
        let got = try Self.logits(pruned)
        let want = try Self.tensor("pruned").floatValues()
        #expect(close(got, want, tolerance: 1e-4), "interpreter \(got.prefix(4)) PyTorch \(want.prefix(4))")
        #expect(!close(got, dense, tolerance: 1e-1))

        // The Split sizes and the head reshapes follow: the pruned model analyses to 2 heads and 32 neurons.
        let again = try StructureAnalysis(model: try ONNXDocument(url: pruned).model)
        #expect(again.group(named: "/gpt/transformer/h.1/attn/c_attn/Gemm")?.unitCount == 2)
        #expect(again.group(named: "/gpt/transformer/h.0/mlp/c_fc/Gemm")?.unitCount == 32)

        guard
            let ortLogits = try HalfRemoval.onnxRuntime(
                pruned, io: Self.io, output: "logits", stem: "tiny_gpt2", in: directory)
        else { return }
        #expect(close(got, ortLogits, tolerance: 1e-4))
    }

    @Test("Grouped-query attention (Llama, 2 K/V heads for 4 query heads) is refused at repeat_kv; SwiGLU neurons prune")
    func groupedQueryAttention() throws {
        let model = Self.fixtures.appendingPathComponent("tiny_llama_gqa.onnx")
        let analysis = try StructureAnalysis(model: try ONNXDocument(url: model).model)
        for (projection, reshape) in [("k_proj", "Reshape_4"), ("v_proj", "Reshape_6")] {
            let group = try #require(analysis.group(named: "/llama/model/layers.0/self_attn/\(projection)/MatMul"))
            #expect(group.unitCount == 2)  // two K/V heads of 4 features
            #expect(
                group.exclusion
                    == "node '/llama/model/layers.0/self_attn/\(reshape)' (Reshape): merges K/V heads repeated 2× by "
                    + "an Expand (grouped-query attention: each K/V head serves 2 query heads); removing a K/V head "
                    + "with its whole query-head family is not built yet")
        }
        #expect(analysis.group(named: "/llama/model/layers.0/self_attn/q_proj/MatMul")?.isPrunable == false)
        // gate_proj and up_proj columns and down_proj rows, through SiLU and the gating Mul.
        let neurons = try #require(analysis.group(named: "/llama/model/layers.0/mlp/gate_proj/MatMul"))
        #expect(neurons.isPrunable)
        #expect(neurons.unitCount == 24)
        #expect(neurons.members.count == 3)
        #expect(analysis.groups.filter(\.isPrunable).count == 1)

        let io = Self.fixtures.appendingPathComponent("tiny_llama_gqa.io.safetensors")
        let inputs = try SafetensorsDocument(url: io).model
        func logits(_ url: URL) throws -> [Float] {
            let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
            let outputs = try interpreter.run([
                "input_ids": try RuntimeTensor(inputs.parameter(named: "input_ids").tensor),
                "attention_mask": try RuntimeTensor(inputs.parameter(named: "attention_mask").tensor),
            ])
            return try #require(outputs["logits"]).tensor().floatValues()
        }
        #expect(close(try logits(model), try inputs.parameter(named: "dense").tensor.floatValues(), tolerance: 1e-4))
        let pruned = try Harness().directory.appendingPathComponent("tiny_llama_gqa.pruned.onnx")
        let run = try PruneBinary.run([
            "run", model.path, "-o", pruned.path, "--granularity", "unit", "--scorer", "magnitude:p=2",
            "--selector", "layer:sparsity=0.5,rounding=floor-keep", "--rewriter", "remove",
        ])
        try #require(run.status == 0, "prune run: \(run.stderr)")
        #expect(try StructureAnalysis(model: try ONNXDocument(url: pruned).model).group(
            named: "/llama/model/layers.0/mlp/gate_proj/MatMul")?.unitCount == 12)
    }
}
