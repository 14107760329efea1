import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneStructure
import PruneTestSupport
import Testing

/// Grouped-query attention written with constant shapes (as a static-shape export would): 4 query heads of 2 on 2
/// K/V heads, `repeat_kv` as Unsqueeze → Expand → Reshape. The constant head entries are lowered, also in an Expand
/// target that repeats the K/V head count.
@Suite("Grouped-query attention with constant shapes")
struct GroupedQueryGraphTests {
    /// `x [1, 3, 8]` → Q `[8, 8]`, K and V `[8, 4]` → heads → `Q·Kᵀ` → Softmax → `·V` → merge → o `[8, 8]`. The
    /// Expand targets are constant initializers: `[1, 1, 2, 1, 1]` (repeat each K/V head twice), V's `vTarget` when
    /// given.
    static func attention(vTarget: [Int64]? = nil) -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "gqa")
        b.input("x", [1, 3, 8])
        b.weight("q.weight", [8, 8])
        b.weight("k.weight", [8, 4])
        b.weight("v.weight", [8, 4])
        b.weight("o.weight", [8, 8])
        b.node("MatMul", ["x", "q.weight"], ["q0"], name: "q_proj")
        b.int64s("q_shape", [1, 3, 4, 2])
        b.node("Reshape", ["q0", "q_shape"], ["q1"], name: "q_heads")
        b.node("Transpose", ["q1"], ["q2"], name: "q_t", lists: ["perm": [0, 2, 1, 3]])
        for p in ["k", "v"] {
            b.node("MatMul", ["x", "\(p).weight"], ["\(p)0"], name: "\(p)_proj")
            b.int64s("\(p)_shape", [1, 3, 2, 2])
            b.node("Reshape", ["\(p)0", "\(p)_shape"], ["\(p)1"], name: "\(p)_heads")
            b.node("Transpose", ["\(p)1"], ["\(p)2"], name: "\(p)_t", lists: ["perm": [0, 2, 1, 3]])
            b.int64s("\(p)_axes", [2])
            b.node("Unsqueeze", ["\(p)2", "\(p)_axes"], ["\(p)3"], name: "\(p)_unsqueeze")
            b.int64s("\(p)_target", p == "v" ? vTarget ?? [1, 1, 2, 1, 1] : [1, 1, 2, 1, 1])
            b.node("Expand", ["\(p)3", "\(p)_target"], ["\(p)4"], name: "\(p)_expand")
            b.int64s("\(p)_merged", [1, 4, 3, 2])
            b.node("Reshape", ["\(p)4", "\(p)_merged"], ["\(p)5"], name: "\(p)_repeat")
        }
        b.node("Transpose", ["k5"], ["k6"], name: "k_tt", lists: ["perm": [0, 1, 3, 2]])
        b.node("MatMul", ["q2", "k6"], ["s"], name: "scores")
        b.node("Softmax", ["s"], ["p"], name: "softmax", ints: ["axis": -1])
        b.node("MatMul", ["p", "v5"], ["c0"], name: "context")
        b.node("Transpose", ["c0"], ["c1"], name: "c_t", lists: ["perm": [0, 2, 1, 3]])
        b.int64s("c_shape", [1, 3, 8])
        b.node("Reshape", ["c1", "c_shape"], ["c2"], name: "merge")
        b.node("MatMul", ["c2", "o.weight"], ["logits"], name: "o_proj")
        b.output("logits", [1, 3, 8])
        var model = b.model
        model.opsetImport[0].version = 18
        return model
    }

    @Test("Constant head shapes: a unit is one K/V head with its 2 query heads; removal equals the dense model without them")
    func constantShapes() throws {
        let harness = try Harness()
        let proto = Self.attention()
        let document = try harness.open(proto, as: "gqa")
        let group = try #require(try StructureAnalysis(model: document.model).group(named: "q_proj"))
        #expect(group.isPrunable, "\(group.exclusion ?? "")")
        #expect(group.unitCount == 2)
        // Unit u: q.weight columns 4u..<4u+4 (query heads 2u, 2u+1 of 2 features), k and v columns 2u..<2u+2,
        // o.weight rows 4u..<4u+4.
        #expect(
            Set(group.members.map { "\($0.slice.parameter)@\($0.slice.axis):\($0.slice.offset)+\($0.slice.width)u" })
                == ["q.weight@1:0+4u", "k.weight@1:0+2u", "v.weight@1:0+2u", "o.weight@0:0+4u"])

        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "gqa-removed")
        let o = try removed.model.parameter(named: "o.weight").tensor.floatValues()
        #expect(o.count == 32)
        // The dense model with the removed family's o_proj rows zeroed gives what removing it must give.
        let dense = try document.model.parameter(named: "o.weight").tensor.floatValues()
        let kept = o == Array(dense[0..<32]) ? 0 : 1
        #expect(o == Array(dense[(kept * 32)..<(kept * 32 + 32)]))
        var zeroed = proto
        let index = try #require(zeroed.graph.initializer.firstIndex { $0.name == "o.weight" })
        let rows = dense.enumerated().map { $0.offset / 8 / 4 == kept ? $0.element : 0 }
        zeroed.graph.initializer[index].rawData = rows.withUnsafeBytes { Data($0) }
        let reference = try harness.open(zeroed, as: "gqa-zeroed")
        let input = Harness.inputs(24)
        let want = try Harness.run(reference.url, input: "x", shape: [1, 3, 8], values: input, output: "logits")
        let got = try Harness.run(removed.url, input: "x", shape: [1, 3, 8], values: input, output: "logits")
        #expect(close(got, want, tolerance: 1e-5), "\(got.prefix(4)) vs \(want.prefix(4))")
        let full = try Harness.run(document.url, input: "x", shape: [1, 3, 8], values: input, output: "logits")
        #expect(!close(got, full, tolerance: 1e-3))
        try RuntimeCheck.expect(removed.url, input: "x", shape: [1, 3, 8], values: input, output: "logits", want: got)
    }

    @Test("An Expand whose constant target repeats the K/V head count is lowered with it")
    func constantExpandTarget() throws {
        let harness = try Harness()
        let proto = Self.attention(vTarget: [1, 2, 2, 3, 2])
        let document = try harness.open(proto, as: "gqa-fixed")
        let group = try #require(try StructureAnalysis(model: document.model).group(named: "q_proj"))
        #expect(group.isPrunable, "\(group.exclusion ?? "")")
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "gqa-fixed-removed")
        #expect(try removed.model.parameter(named: "v_target").tensor.withInt64Values { Array($0) } == [1, 1, 2, 3, 2])
        #expect(try removed.model.parameter(named: "k_target").tensor.withInt64Values { Array($0) } == [1, 1, 2, 1, 1])
        let input = Harness.inputs(24)
        let got = try Harness.run(removed.url, input: "x", shape: [1, 3, 8], values: input, output: "logits")
        // The same removal from the model whose V target broadcasts gives the same output.
        let plain = try harness.prune(
            try harness.open(Self.attention(), as: "gqa-plain"), selector: LayerSelector(sparsity: 0.5),
            rewriter: RemoveRewriter(), name: "gqa-plain-removed")
        let want = try Harness.run(plain.url, input: "x", shape: [1, 3, 8], values: input, output: "logits")
        #expect(close(got, want, tolerance: 1e-6))
    }
}
