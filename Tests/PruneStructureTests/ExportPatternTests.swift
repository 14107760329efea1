import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneStructure
import PruneTestSupport
import Testing

/// The patterns real exports are made of, which earlier analyses refused: channels-last LayerNorm blocks
/// (ConvNeXt), squeeze-excitation with symbolic spatial dims, Shape readers, Pad, Resize and ConvTranspose.
@Suite("Patterns of real exports")
struct ExportPatternTests {
    /// Conv → Transpose to NHWC → LayerNorm → MatMul+bias → Gelu → MatMul+bias → Transpose back → + the Conv's
    /// output → Conv → Flatten, as ConvNeXt's blocks export.
    static func convNeXtBlock() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "convnext")
        b.input("input", [nil, 3, 4, 4])
        b.conv("input", "c", name: "stem", in: 3, out: 8)
        b.node("Transpose", ["c"], ["t"], name: "to_nhwc", lists: ["perm": [0, 2, 3, 1]])
        b.weight("ln.weight", [8])
        b.weight("ln.bias", [8])
        b.node("LayerNormalization", ["t", "ln.weight", "ln.bias"], ["n"], name: "ln", ints: ["axis": -1])
        b.weight("fc1.weight", [8, 16])
        b.weight("fc1.bias", [16])
        b.node("MatMul", ["n", "fc1.weight"], ["h0"], name: "fc1")
        b.node("Add", ["h0", "fc1.bias"], ["h1"], name: "fc1_bias")
        b.node("Gelu", ["h1"], ["h2"], name: "gelu")
        b.weight("fc2.weight", [16, 8])
        b.weight("fc2.bias", [8])
        b.node("MatMul", ["h2", "fc2.weight"], ["o0"], name: "fc2")
        b.node("Add", ["o0", "fc2.bias"], ["o1"], name: "fc2_bias")
        b.node("Transpose", ["o1"], ["o2"], name: "to_nchw", lists: ["perm": [0, 3, 1, 2]])
        b.node("Add", ["o2", "c"], ["s"], name: "residual")
        b.conv("s", "h", name: "head", in: 8, out: 2)
        b.node("Flatten", ["h"], ["logits"], name: "flatten")
        b.output("logits", [nil, 32])
        var model = b.model
        model.opsetImport[0].version = 20
        return model
    }

    /// Conv → Relu → squeeze-excitation (ReduceMean → Conv → Relu → Conv → Sigmoid → Mul) → Conv → global pool →
    /// Flatten, on an input whose height and width are symbolic; the output's shape is read by a Shape node.
    static func squeezeExcitation() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "se")
        b.input("input", [nil, 3, nil, nil])
        b.graph.input[0].type.tensorType.shape.dim[2].dimParam = "height"
        b.graph.input[0].type.tensorType.shape.dim[3].dimParam = "width"
        b.conv("input", "c", name: "conv", in: 3, out: 8)
        b.node("Relu", ["c"], ["r"], name: "relu")
        b.int64s("axes", [2, 3])
        b.node("ReduceMean", ["r", "axes"], ["m"], name: "squeeze", ints: ["keepdims": 1])
        b.conv("m", "s1", name: "se_reduce", in: 8, out: 4, k: 1)
        b.node("Relu", ["s1"], ["s2"], name: "se_relu")
        b.conv("s2", "s3", name: "se_expand", in: 4, out: 8, k: 1)
        b.node("Sigmoid", ["s3"], ["g"], name: "gate")
        b.node("Mul", ["r", "g"], ["x"], name: "excite")
        b.node("Shape", ["x"], ["x_shape"], name: "shape_of_x")
        b.conv("x", "h", name: "head", in: 8, out: 2)
        b.node("GlobalAveragePool", ["h"], ["p"], name: "pool")
        b.node("Flatten", ["p"], ["logits"], name: "flatten")
        b.output("logits", [nil, 2])
        var model = b.model
        model.opsetImport[0].version = 18
        return model
    }

    static func prunable(_ proto: Onnx_ModelProto, _ harness: Harness, as name: String) throws -> [String] {
        let document = try harness.open(proto, as: name)
        return try StructureAnalysis(model: document.model).groups.filter(\.isPrunable).map(\.name)
    }

    @Test("A ConvNeXt block: LayerNorm after a Transpose follows the stem's channels; the MLP neurons are a group")
    func convNeXt() throws {
        let harness = try Harness()
        let document = try harness.open(Self.convNeXtBlock(), as: "convnext")
        let groups = try StructureAnalysis(model: document.model).groups
        let stem = try #require(groups.first { $0.name == "stem" })
        #expect(stem.isPrunable, "\(stem.exclusion ?? "")")
        #expect(
            Set(stem.members.map { "\($0.slice.parameter)@\($0.slice.axis)" }).isSuperset(of: [
                "stem.weight@0", "ln.weight@0", "ln.bias@0", "fc1.weight@0", "fc2.weight@1", "fc2.bias@0",
                "head.weight@1",
            ]))
        #expect(groups.first { $0.name == "fc1" }?.isPrunable == true)
        try Self.removeAndCompare(document, harness, name: "convnext", shape: [2, 3, 4, 4])
    }

    @Test("Squeeze-excitation with symbolic height and width: the trunk and the SE bottleneck are groups")
    func squeezeExcitationGroups() throws {
        let harness = try Harness()
        let document = try harness.open(Self.squeezeExcitation(), as: "se")
        let groups = try StructureAnalysis(model: document.model).groups
        #expect(groups.filter(\.isPrunable).map(\.name) == ["conv", "se_reduce"], "\(groups.map(\.exclusion))")
        let conv = try #require(groups.first { $0.name == "conv" })
        #expect(
            Set(conv.members.map { "\($0.slice.parameter)@\($0.slice.axis)" }) == [
                "conv.weight@0", "conv.bias@0", "se_reduce.weight@1", "se_expand.weight@0", "se_expand.bias@0",
                "head.weight@1",
            ])
        try Self.removeAndCompare(document, harness, name: "se", shape: [1, 3, 7, 5])
    }

    /// Removes half of every group's units, then checks the interpreter against ONNX Runtime on the result.
    static func removeAndCompare(_ document: ONNXDocument, _ harness: Harness, name: String, shape: [Int]) throws {
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "\(name)-removed")
        #expect(removed.model.parameterCount < document.model.parameterCount)
        let input = Harness.inputs(shape.reduce(1, *))
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: got)
    }

    @Test("Pad with constant pads off the channel axis, Resize by scales and ConvTranspose carry the channels")
    func padResizeConvTranspose() throws {
        var b = LayerGraphBuilder(name: "decoder")
        b.input("input", [nil, 3, 4, 4])
        b.conv("input", "c", name: "conv", in: 3, out: 6)
        b.int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1])
        b.node("Pad", ["c", "pads"], ["p"], name: "pad", lists: [:])
        b.weight("roi", [0])
        b.weight("scales", [4], values: [1, 1, 2, 2])
        b.node("Resize", ["p", "roi", "scales"], ["u"], name: "upsample")
        b.weight("up.weight", [6, 4, 2, 2])
        b.weight("up.bias", [4])
        b.node("ConvTranspose", ["u", "up.weight", "up.bias"], ["t"], name: "up", lists: ["strides": [2, 2]])
        b.conv("t", "h", name: "head", in: 4, out: 1, k: 1)
        b.node("Flatten", ["h"], ["logits"], name: "flatten")
        b.output("logits", [nil, 576])
        let harness = try Harness()
        let document = try harness.open(b.model, as: "decoder")
        let groups = try StructureAnalysis(model: document.model).groups
        let conv = try #require(groups.first { $0.name == "conv" })
        #expect(conv.isPrunable, "\(conv.exclusion ?? "")")
        #expect(Set(conv.members.map { "\($0.slice.parameter)@\($0.slice.axis)" }).contains("up.weight@0"))
        let up = try #require(groups.first { $0.name == "up" })
        #expect(up.isPrunable, "\(up.exclusion ?? "")")
        #expect(Set(up.members.map { "\($0.slice.parameter)@\($0.slice.axis)" }) == [
            "up.weight@1", "up.bias@0", "head.weight@1",
        ])
        let padsOnChannels = try harness.open(
            {
                var model = b.model
                let pads = try! #require(model.graph.initializer.firstIndex { $0.name == "pads" })
                let values: [Int64] = [0, 1, 1, 1, 0, 0, 1, 1]
                model.graph.initializer[pads].rawData = values.withUnsafeBytes { Data($0) }
                return model
            }(), as: "pad-channels")
        let blocked = try StructureAnalysis(model: padsOnChannels.model).groups.first { $0.name == "conv" }
        #expect(blocked?.exclusion == "node 'pad' (Pad): pads the group's channel axis")
    }

    @Test("A per-channel bias reshaped to [1, C, 1, 1] before its Add (PaddlePaddle's) is cut with the channels")
    func reshapedBias() throws {
        var b = LayerGraphBuilder(name: "reshaped-bias")
        b.input("input", [nil, 3, 4, 4])
        b.conv("input", "c", name: "conv", in: 3, out: 6)
        b.weight("offset", [6])
        b.int64s("offset_shape", [1, 6, 1, 1])
        b.node("Reshape", ["offset", "offset_shape"], ["offset4"], name: "offset_reshape")
        b.node("Add", ["c", "offset4"], ["a"], name: "offset_add")
        b.node("Relu", ["a"], ["r"], name: "relu")
        b.conv("r", "h", name: "head", in: 6, out: 2)
        b.node("Flatten", ["h"], ["logits"], name: "flatten")
        b.output("logits", [nil, 32])
        let harness = try Harness()
        let document = try harness.open(b.model, as: "reshaped-bias")
        let conv = try #require(try StructureAnalysis(model: document.model).groups.first { $0.name == "conv" })
        #expect(conv.isPrunable, "\(conv.exclusion ?? "")")
        // By hand: the Conv's rows and bias, the offset (reached backwards through the Reshape, axis 1 → axis 0) and
        // the head's columns; the Reshape's shape constant drops to [1, 3, 1, 1] in the rewrite.
        #expect(
            Set(conv.members.map { "\($0.slice.parameter)@\($0.slice.axis)" }) == [
                "conv.weight@0", "conv.bias@0", "offset@0", "head.weight@1",
            ])
        try Self.removeAndCompare(document, harness, name: "reshaped-bias", shape: [1, 3, 4, 4])
    }
}
