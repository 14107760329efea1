import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneStructure
import PruneTestSupport
import Testing

/// A grouped Conv is pruned as Torch-Pruning 1.6 prunes it: its input and output channels are separate groups, and
/// each removes the same in-group positions from every convolution group. The expected channels are worked out by
/// hand below (and are the ones Torch-Pruning 1.6.1's `MetaPruner` with `MagnitudeImportance(p=2)` at ratio 0.5
/// removes from the same torch model).
@Suite("Grouped Conv by in-group position")
struct GroupedConvPositionTests {
    /// input (2) → conv1 1×1 (2 → 8) → Relu → gconv 1×1 (8 → 8, group 2: 4 channels per group) → Relu → conv3 1×1
    /// (8 → 2) → Flatten. Biases are zero. Weights (rows are output channels):
    /// - conv1: [2,0] [2,0] [3,0] [4,0] | [2,2] [1,0] [1,0] [3,0] — squared row norms 4 4 9 16 | 8 1 1 9;
    /// - gconv: 0 except w[0, 1] = 2 (row 0 reads input channel 1 of group 0);
    /// - conv3: row 0 = [1 1 2 1 1 3 1 1], row 1 = 0.
    static func model() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "grouped-positions")
        b.input("input", [nil, 2, 3, 3])
        b.weight("conv1.weight", [8, 2, 1, 1], values: [2, 0, 2, 0, 3, 0, 4, 0, 2, 2, 1, 0, 1, 0, 3, 0])
        b.weight("conv1.bias", [8], values: Array(repeating: 0, count: 8))
        var gconv = [Float](repeating: 0, count: 32)
        gconv[1] = 2
        b.weight("gconv.weight", [8, 4, 1, 1], values: gconv)
        b.weight("gconv.bias", [8], values: Array(repeating: 0, count: 8))
        b.weight("conv3.weight", [2, 8, 1, 1], values: [1, 1, 2, 1, 1, 3, 1, 1] + Array(repeating: 0, count: 8))
        b.weight("conv3.bias", [2], values: [0, 0])
        b.node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name: "conv1", lists: ["kernel_shape": [1, 1]])
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        b.node(
            "Conv", ["r1", "gconv.weight", "gconv.bias"], ["g"], name: "gconv", ints: ["group": 2],
            lists: ["kernel_shape": [1, 1]])
        b.node("Relu", ["g"], ["r2"], name: "relu2")
        b.node("Conv", ["r2", "conv3.weight", "conv3.bias"], ["c3"], name: "conv3", lists: ["kernel_shape": [1, 1]])
        b.node("Flatten", ["c3"], ["logits"], name: "flatten")
        b.output("logits", [nil, 18])
        return b.model
    }

    @Test("Input and output channels of the grouped Conv are two groups of 4 in-group positions each")
    func groups() throws {
        let document = try Harness().open(Self.model(), as: "positions")
        let analysis = try StructureAnalysis(model: document.model)
        #expect(analysis.groups.map(\.name) == ["conv1", "gconv", "conv3"])
        let conv1 = try #require(analysis.group(named: "conv1"))
        let gconv = try #require(analysis.group(named: "gconv"))
        #expect(conv1.unitCount == 4 && gconv.unitCount == 4)
        // Unit j of conv1's group: conv1 rows j and 4 + j, and gconv's weight column j counted once per group.
        #expect(
            conv1.scoredSlices == [
                UnitSlice(parameter: "conv1.weight", axis: 0), UnitSlice(parameter: "conv1.weight", axis: 0, offset: 4),
                UnitSlice(parameter: "gconv.weight", axis: 1), UnitSlice(parameter: "gconv.weight", axis: 1),
            ])
        #expect(
            Set(gconv.scoredSlices) == [
                UnitSlice(parameter: "gconv.weight", axis: 0), UnitSlice(parameter: "gconv.weight", axis: 0, offset: 4),
                UnitSlice(parameter: "conv3.weight", axis: 1), UnitSlice(parameter: "conv3.weight", axis: 1, offset: 4),
            ])
        #expect(gconv.activations.first { $0.value == "r2" }?.indices(of: [1]) == [1, 5])
    }

    /// conv1's group, position j scored Σ_g ‖conv1 row 4g + j‖² + 2·‖gconv column j‖²: 4 + 8 = 12, 4 + 1 + 2·4 = 13,
    /// 9 + 1 = 10, 16 + 9 = 25, so positions 2 and 0 go: channels 0, 2, 4, 6. (Counting gconv's column once, as the
    /// rows of each group alone would, gives 9 for position 1 and removes 1 and 2 instead; choosing per convolution
    /// group would remove 0, 1 from group 0 and 5, 6 from group 1.)
    /// gconv's group, position j scored Σ_g ‖gconv row 4g + j‖² + ‖conv3 column 4g + j‖²: 4 + 1 + 1 = 6, 1 + 9 = 10,
    /// 4 + 1 = 5, 1 + 1 = 2, so positions 3 and 2 go: channels 2, 3, 6, 7.
    @Test("magnitude:p=2 at 0.5 removes the hand-derived positions from both groups; the model stays exact")
    func removal() throws {
        let harness = try Harness()
        let document = try harness.open(Self.model(), as: "positions")
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5, rounding: .floorKeep), rewriter: RemoveRewriter(),
            name: "positions-removed")
        let model = removed.model
        #expect(model["conv1.weight"]?.tensor.shape == [4, 2, 1, 1])
        #expect(model["conv1.weight"]?.tensor.floatValues() == [2, 0, 4, 0, 1, 0, 3, 0])
        // gconv keeps output positions 0, 1 (rows 0, 1, 4, 5) and input positions 1, 3 (columns 1, 3 of each row).
        #expect(model["gconv.weight"]?.tensor.shape == [4, 2, 1, 1])
        #expect(model["gconv.weight"]?.tensor.floatValues() == [2, 0, 0, 0, 0, 0, 0, 0])
        #expect(model["conv3.weight"]?.tensor.floatValues() == [1, 1, 1, 3, 0, 0, 0, 0])
        let written = try ONNXDocument(url: removed.url)
        #expect(written.proto.graph.node.first { $0.name == "gconv" }?.attribute.first { $0.name == "group" }?.i == 2)

        // Silencing the same channels in the dense model gives the same outputs (interpreter and ONNX Runtime).
        var zeroed = document.model
        var conv1 = [Float]([2, 0, 2, 0, 3, 0, 4, 0, 2, 2, 1, 0, 1, 0, 3, 0])
        for channel in [0, 2, 4, 6] {
            conv1[channel * 2] = 0
            conv1[channel * 2 + 1] = 0
        }
        try zeroed.setTensor(Tensor(shape: [8, 2, 1, 1], values: conv1), for: "conv1.weight")
        let zeroedURL = harness.directory.appendingPathComponent("positions-zeroed.onnx")
        _ = try document.write(zeroed, to: zeroedURL, metadata: [:], overwrite: true)
        let shape = [2, 2, 3, 3]
        let input = Harness.inputs(shape.reduce(1, *))
        let want = try Harness.run(zeroedURL, input: "input", shape: shape, values: input, output: "logits")
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        #expect(close(got, want))
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: want)
    }

    /// conv1 (3 → 8) → Relu → gconv (8 → 8, group 2) → Relu → g4 (8 → 8, group 4) → Relu → conv3 (8 → 2) → Flatten.
    static func chain() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "grouped-chain")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 8)
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        b.conv("r1", "g", name: "gconv", in: 8, out: 8, group: 2)
        b.node("Relu", ["g"], ["r2"], name: "relu2")
        b.conv("r2", "g4", name: "g4", in: 8, out: 8, group: 4)
        b.node("Relu", ["g4"], ["r3"], name: "relu3")
        b.conv("r3", "c3", name: "conv3", in: 8, out: 2)
        b.node("Flatten", ["c3"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }

    /// gconv writes its channels in groups of 4 and g4 reads them in groups of 2: their group repeats every 2
    /// channels (the greatest common divisor), so both convolutions lose the same positions in each of their groups.
    @Test("Grouped Convs of different widths on one group tie at the common divisor; ONNX Runtime runs the result")
    func differentWidths() throws {
        let harness = try Harness()
        let document = try harness.open(Self.chain(), as: "chain")
        let analysis = try StructureAnalysis(model: document.model)
        #expect(analysis.group(named: "conv1")?.unitCount == 4)
        #expect(analysis.group(named: "gconv")?.unitCount == 2)
        #expect(analysis.group(named: "g4")?.unitCount == 2)
        #expect(analysis.groups.filter(\.isPrunable).map(\.name) == ["conv1", "gconv", "g4"])
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5, rounding: .floorKeep), rewriter: RemoveRewriter(),
            name: "chain-removed")
        // conv1: 2 of 4 positions (4 of 8 channels); gconv: 1 of 2 positions out (rows 8 → 4), 2 of 4 columns;
        // g4: 1 of 2 positions out (rows 8 → 4) and in (columns 2 → 1); conv3 reads 4 channels.
        #expect(removed.model["conv1.weight"]?.tensor.shape == [4, 3, 3, 3])
        #expect(removed.model["gconv.weight"]?.tensor.shape == [4, 2, 3, 3])
        #expect(removed.model["g4.weight"]?.tensor.shape == [4, 1, 3, 3])
        #expect(removed.model["conv3.weight"]?.tensor.shape == [2, 4, 3, 3])
        let shape = [2, 3, 5, 5]
        let input = Harness.inputs(shape.reduce(1, *))
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: got)
    }

    @Test("A grouped Conv reading a Concat of two producers: each covers part of its input, both are refused")
    func partialCoverage() throws {
        var b = LayerGraphBuilder(name: "grouped-concat")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "a", name: "convA", in: 3, out: 4)
        b.conv("input", "c", name: "convB", in: 3, out: 4)
        b.node("Concat", ["a", "c"], ["cat"], name: "concat", ints: ["axis": 1])
        b.conv("cat", "g", name: "gconv", in: 8, out: 8, group: 2)
        b.node("Flatten", ["g"], ["logits"], name: "flatten")
        b.output("logits", [nil, 200])
        let document = try Harness().open(b.model, as: "grouped-concat")
        let analysis = try StructureAnalysis(model: document.model)
        let reason =
            "node 'gconv' (Conv): the group covers part of the input channels of a grouped convolution (group=2); "
            + "only all of them can be pruned, the same in-group positions in every group"
        #expect(analysis.group(named: "convA")?.exclusion == reason)
        #expect(analysis.group(named: "convB")?.exclusion == reason)
    }
}
