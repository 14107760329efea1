import Foundation
import PruneCore
import PruneFormats
import PruneStructure
import PruneTestSupport
import Testing

/// Head-dimension pruning (`--head-dims`) on the transformer fixtures: the Q/K and V/O groups of tiny_bert, their
/// removal against the dense model with the same dims dropped (`Scripts/head_dims_reference.py`), and the blocks it
/// refuses.
@Suite("Head dimensions")
struct HeadDimensionTests {
    static let fixtures = TransformerTests.fixtures

    static func analysis(_ name: String, headDimensions: Bool = true) throws -> StructureAnalysis {
        try StructureAnalysis(
            model: try ONNXDocument(url: fixtures.appendingPathComponent(name)).model, headDimensions: headDimensions)
    }

    @Test("With head dims each layer offers a Q/K and a V/O group of d = 8 units, feature j of every head")
    func groups() throws {
        let analysis = try Self.analysis("tiny_bert.onnx")
        for layer in 0..<2 {
            let qk = try #require(analysis.group(named: "/blocks.\(layer)/query/MatMul"))
            let vo = try #require(analysis.group(named: "/blocks.\(layer)/value/MatMul"))
            #expect(qk.isPrunable && vo.isPrunable)
            #expect(qk.unitCount == 8 && vo.unitCount == 8)
            // The key projection belongs to the Q/K group, not a group of its own.
            #expect(analysis.group(named: "/blocks.\(layer)/key/MatMul") == nil)
            // Q and K columns (scored) and biases: width 1, once per head (4), 8 apart.
            #expect(qk.members.count == 4)
            #expect(qk.members.allSatisfy { $0.slice.width == 1 && $0.repeats == 4 && $0.stride == 8 })
            #expect(qk.members.filter(\.scored).map(\.slice.axis) == [1, 1])
            // V columns and bias, the output projection's rows h·8 + j.
            #expect(vo.members.count == 3)
            #expect(vo.members.allSatisfy { $0.slice.width == 1 && $0.repeats == 4 && $0.stride == 8 })
            #expect(vo.members.contains { $0.scored && $0.slice.axis == 0 && $0.node.contains("attention_output") })
        }
        // Unit 3 of the V/O group scores the output projection's rows 3, 11, 19 and 27.
        let vo = try #require(analysis.group(named: "/blocks.0/value/MatMul"))
        let rows = vo.scoredSlices.filter { $0.axis == 0 }.map { $0.offset + 3 * $0.width }
        #expect(rows == [3, 11, 19, 27])
        // Two attention groups and the neurons per layer; no head groups.
        #expect(analysis.groups.filter(\.isPrunable).map(\.unitCount).sorted() == [8, 8, 8, 8, 64, 64])
    }

    @Test("Without the flag the attention blocks are still head groups of 4 units")
    func defaultIsHeads() throws {
        let analysis = try Self.analysis("tiny_bert.onnx", headDimensions: false)
        #expect(analysis.group(named: "/blocks.0/query/MatMul")?.unitCount == 4)
        #expect(analysis.group(named: "/blocks.1/value/MatMul") == nil)
    }

    @Test("Rotary embeddings (Llama), heads in the batch axis (ViT) and fused QKV (GPT-2) are refused by name")
    func refusals() throws {
        let llama = try #require(try Self.analysis("tiny_llama_gqa.onnx").groups.first { $0.name.contains("q_proj") })
        let reason = try #require(llama.exclusion)
        #expect(reason.hasPrefix("node '") && reason.contains("rotary embeddings"), "\(reason)")
        let vit = try Self.analysis("tiny_vit.onnx").groups.filter { $0.exclusion?.contains("batch axis") ?? false }
        #expect(vit.count == 2)
        #expect(vit.allSatisfy { $0.exclusion?.contains("nn.MultiheadAttention") ?? false })
        let gpt2 = try Self.analysis("tiny_gpt2.onnx").groups.filter { $0.exclusion?.contains("fused projection") ?? false }
        #expect(gpt2.count == 2)
        #expect(try Self.analysis("tiny_llama_gqa.onnx").groups.filter { $0.unitCount == 4 && $0.isPrunable }.isEmpty)
    }

    @Test("Removing half of each head-dim group: ONNX Runtime equals the dense model with those dims dropped")
    func removal() throws {
        let model = Self.fixtures.appendingPathComponent("tiny_bert.onnx")
        let io = TransformerTests.io
        let directory = try Harness().directory
        let pruned = try HalfRemoval.prune(
            model, stem: "tiny_bert_hd", into: directory, flags: ["--head-dims", "--ignore", "intermediate"])
        let again = try ONNXDocument(url: pruned).model
        for name in ["onnx::MatMul_288", "onnx::MatMul_291", "onnx::MatMul_294"] {
            #expect(try again.parameter(named: name).tensor.shape == [32, 16])
        }
        #expect(try again.parameter(named: "onnx::MatMul_298").tensor.shape == [16, 32])
        let got = try TransformerTests.embedding(pruned)
        #expect(!close(got, try TransformerTests.tensor("dense").floatValues(), tolerance: 1e-2))
        guard let python = TestPython.python else {
            if TestPython.isCI { Issue.record("CI is set but \(TestPython.skipMessage)") }
            return
        }
        let check = try TestPython.run(
            python, [TestPython.script("head_dims_reference.py").path, model.path, pruned.path, io.path])
        #expect(check.status == 0, "head_dims_reference.py: \(check.output)")
        guard
            let ort = try HalfRemoval.onnxRuntime(
                pruned, io: io, output: "embedding", stem: "tiny_bert_hd", in: directory)
        else { return }
        #expect(close(got, ort, tolerance: 1e-5))
    }
}
