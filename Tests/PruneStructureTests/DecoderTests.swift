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

    static let llama = fixtures.appendingPathComponent("tiny_llama_gqa.onnx")
    static let llamaIO = fixtures.appendingPathComponent("tiny_llama_gqa.io.safetensors")

    static let phi3 = fixtures.appendingPathComponent("tiny_phi3_gqa.onnx")
    static let phi3IO = fixtures.appendingPathComponent("tiny_phi3_gqa.io.safetensors")

    static func decoderLogits(_ url: URL, io: URL = llamaIO) throws -> [Float] {
        let inputs = try SafetensorsDocument(url: io).model
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run([
            "input_ids": try RuntimeTensor(inputs.parameter(named: "input_ids").tensor),
            "attention_mask": try RuntimeTensor(inputs.parameter(named: "attention_mask").tensor),
        ])
        return try #require(outputs["logits"]).tensor().floatValues()
    }

    @Test("Grouped-query attention (Llama, 4 query heads on 2 K/V heads): a unit is one K/V head with its 2 query heads")
    func groupedQueryAttention() throws {
        let analysis = try StructureAnalysis(model: try ONNXDocument(url: Self.llama).model)
        let attn = "/llama/model/layers.0/self_attn"
        // Started at q_proj with 4 heads of 4, the group meets repeat_kv's Reshape `[b, 2, 2, s, 4] → [b, 4, s, 4]`
        // and is grown again with 2 units: K/V head u serves query heads 2u and 2u+1.
        let heads = try #require(analysis.group(named: "\(attn)/q_proj/MatMul"))
        #expect(heads.isPrunable, "\(heads.exclusion ?? "")")
        #expect(heads.unitCount == 2)
        #expect(analysis.group(named: "\(attn)/k_proj/MatMul") == nil)
        #expect(analysis.group(named: "\(attn)/v_proj/MatMul") == nil)
        // Unit 1, derived by hand: q_proj.weight ([in 16, out 16] as MatMul stores it) columns 8..<16 (query heads
        // 2 and 3 of 4 features), k_proj and v_proj ([16, 8]) columns 4..<8 (K/V head 1), o_proj.weight rows
        // 8..<16 (the context features of query heads 2 and 3). All four are scored.
        var unitOne: [String: (axis: Int, range: Range<Int>)] = [:]
        for member in heads.members {
            let slice = member.slice
            let first = slice.offset + slice.width
            unitOne[String(member.node.split(separator: "/").suffix(2).joined(separator: "/"))] =
                (slice.axis, first..<(first + slice.width))
            #expect(member.scored)
        }
        #expect(unitOne.count == 4)
        #expect(unitOne["q_proj/MatMul"].map { $0.axis == 1 && $0.range == 8..<16 } == true)
        #expect(unitOne["k_proj/MatMul"].map { $0.axis == 1 && $0.range == 4..<8 } == true)
        #expect(unitOne["v_proj/MatMul"].map { $0.axis == 1 && $0.range == 4..<8 } == true)
        #expect(unitOne["o_proj/MatMul"].map { $0.axis == 0 && $0.range == 8..<16 } == true)
        // Activations: K/V head 1 before the repeat, query heads 2 and 3 after it and in the scores.
        func indices(_ value: String) -> [Int]? {
            heads.activations.first { $0.value == "\(attn)/\(value)" }?.indices(of: [1])
        }
        #expect(indices("Expand_output_0") == [1])
        #expect(indices("Reshape_4_output_0") == [2, 3])
        #expect(indices("Softmax_output_0") == [2, 3])
        // Rotary embeddings act inside each head: the halves sliced and concatenated along the head size keep the
        // group on the head axis.
        #expect(indices("Concat_3_output_0") == [2, 3])
        #expect(indices("Concat_4_output_0") == [1])
        // gate_proj and up_proj columns and down_proj rows, through SiLU and the gating Mul.
        let neurons = try #require(analysis.group(named: "/llama/model/layers.0/mlp/gate_proj/MatMul"))
        #expect(neurons.isPrunable)
        #expect(neurons.unitCount == 24)
        #expect(neurons.members.count == 3)
        #expect(analysis.groups.filter(\.isPrunable).count == 2)
    }

    @Test("Removing one K/V head with its query heads and half the neurons gives PyTorch's smaller Llama; ONNX Runtime agrees")
    func groupedQueryRemoval() throws {
        let inputs = try SafetensorsDocument(url: Self.llamaIO).model
        let dense = try inputs.parameter(named: "dense").tensor.floatValues()
        #expect(close(try Self.decoderLogits(Self.llama), dense, tolerance: 1e-4))

        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(Self.llama, stem: "tiny_llama_gqa", into: directory)
        let got = try Self.decoderLogits(pruned)
        let want = try inputs.parameter(named: "pruned").tensor.floatValues()
        #expect(close(got, want, tolerance: 1e-4), "interpreter \(got.prefix(4)) PyTorch \(want.prefix(4))")
        #expect(!close(got, dense, tolerance: 1e-1))

        // q_proj [16, 8], k_proj and v_proj [16, 4], o_proj [8, 16]; the head counts of the shapes follow: the
        // pruned model analyses to 1 K/V head (with its 2 query heads) and 12 neurons.
        let denseHeads = try #require(
            try StructureAnalysis(model: try ONNXDocument(url: Self.llama).model).group(
                named: "/llama/model/layers.0/self_attn/q_proj/MatMul"))
        let model = try ONNXDocument(url: pruned).model
        var shapes: [String: [Int]] = [:]
        for member in denseHeads.members {
            shapes[member.node.split(separator: "/").suffix(2).joined(separator: "/")] =
                try model.parameter(named: member.slice.parameter).tensor.shape
        }
        #expect(shapes["q_proj/MatMul"] == [16, 8])
        #expect(shapes["k_proj/MatMul"] == [16, 4])
        #expect(shapes["v_proj/MatMul"] == [16, 4])
        #expect(shapes["o_proj/MatMul"] == [8, 16])
        let again = try StructureAnalysis(model: model)
        #expect(again.group(named: "/llama/model/layers.0/self_attn/q_proj/MatMul")?.unitCount == 1)
        #expect(again.group(named: "/llama/model/layers.0/mlp/gate_proj/MatMul")?.unitCount == 12)

        guard
            let ortLogits = try HalfRemoval.onnxRuntime(
                pruned, io: Self.llamaIO, output: "logits", stem: "tiny_llama_gqa", in: directory)
        else { return }
        #expect(close(ortLogits, want, tolerance: 1e-4))
    }

    @Test("Phi-3's fused qkv_proj under grouped-query attention: a unit is one K/V head's K and V columns and its 2 query heads' Q columns")
    func fusedGroupedQueryAttention() throws {
        let analysis = try StructureAnalysis(model: try ONNXDocument(url: Self.phi3).model)
        let heads = try #require(analysis.group(named: "/phi3/model/layers.0/self_attn/qkv_proj/MatMul"))
        #expect(heads.isPrunable, "\(heads.exclusion ?? "")")
        #expect(heads.unitCount == 2)
        // qkv_proj.weight is [16, 32] (MatMul's [in, out]): Q columns 0..<16, K 16..<24, V 24..<32. Unit 1, derived
        // by hand: Q columns 8..<16 (query heads 2 and 3), K columns 20..<24 and V columns 28..<32 (K/V head 1);
        // o_proj.weight [16, 16] rows 8..<16.
        var unitOne = Set<String>()
        for member in heads.members {
            let first = member.slice.offset + member.slice.width
            unitOne.insert(
                "\(member.node.split(separator: "/").suffix(2).joined(separator: "/"))@\(member.slice.axis):"
                    + "\(first)..<\(first + member.slice.width)")
        }
        #expect(
            unitOne == [
                "qkv_proj/MatMul@1:8..<16", "qkv_proj/MatMul@1:20..<24", "qkv_proj/MatMul@1:28..<32",
                "o_proj/MatMul@0:8..<16",
            ])

        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(Self.phi3, stem: "tiny_phi3_gqa", into: directory)
        let inputs = try SafetensorsDocument(url: Self.phi3IO).model
        let got = try Self.decoderLogits(pruned, io: Self.phi3IO)
        let want = try inputs.parameter(named: "pruned").tensor.floatValues()
        #expect(close(got, want, tolerance: 1e-4), "interpreter \(got.prefix(4)) PyTorch \(want.prefix(4))")
        #expect(!close(got, try inputs.parameter(named: "dense").tensor.floatValues(), tolerance: 1e-1))
        let qkv = try #require(heads.members.first { $0.node.hasSuffix("qkv_proj/MatMul") }?.slice.parameter)
        #expect(try ONNXDocument(url: pruned).model.parameter(named: qkv).tensor.shape == [16, 16])
        guard
            let ortLogits = try HalfRemoval.onnxRuntime(
                pruned, io: Self.phi3IO, output: "logits", stem: "tiny_phi3_gqa", in: directory)
        else { return }
        #expect(close(ortLogits, want, tolerance: 1e-4))
    }
}
