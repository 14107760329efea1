import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneStructure
import Testing

@Suite("Split, Slice and grouped Conv")
struct SplitSliceGroupedTests {
    func analysis(_ proto: Onnx_ModelProto) throws -> [String: DependencyGroup] {
        let document = try Harness().open(proto, as: "model")
        let analysis = try StructureAnalysis(model: document.model)
        return Dictionary(uniqueKeysWithValues: analysis.groups.map { ($0.name, $0) })
    }

    func slices(_ group: DependencyGroup?) -> Set<String> {
        Set(
            (group?.members ?? []).map { "\($0.slice.parameter)@\($0.slice.axis)+\($0.slice.offset)x\($0.slice.width)" }
        )
    }

    @Test("A Split divides the producer's group at the parts; each part couples its consumer from 0")
    func splitGroups() throws {
        let groups = try analysis(TestGraphs.split())
        #expect(groups["conv1[0:2]"]?.unitCount == 2)
        #expect(groups["conv1[2:6]"]?.unitCount == 4)
        #expect(slices(groups["conv1[0:2]"]) == ["conv1.weight@0+0x1", "conv1.bias@0+0x1", "conv2.weight@1+0x1"])
        #expect(slices(groups["conv1[2:6]"]) == ["conv1.weight@0+2x1", "conv1.bias@0+2x1", "conv3.weight@1+0x1"])
        #expect(groups["conv2"]?.isPrunable == true)
        let equal = try analysis(TestGraphs.split(equal: true))
        #expect(equal["conv1[0:3]"]?.unitCount == 3)
        #expect(slices(equal["conv1[3:6]"]).contains("conv3.weight@1+0x1"))
    }

    @Test("A Slice divides the group at its bounds; channels outside it only lose the producer's weights")
    func sliceGroups() throws {
        let groups = try analysis(TestGraphs.slice())
        #expect(groups.keys.sorted() == ["conv1[0:2]", "conv1[2:6]", "conv1[6:8]", "conv2"])
        #expect(slices(groups["conv1[0:2]"]) == ["conv1.weight@0+0x1", "conv1.bias@0+0x1"])
        #expect(slices(groups["conv1[2:6]"]) == ["conv1.weight@0+2x1", "conv1.bias@0+2x1", "conv2.weight@1+0x1"])
        #expect(groups.values.allSatisfy { $0.name == "conv2" || $0.isPrunable })
    }

    func repeatedSlices(_ group: DependencyGroup?) -> Set<String> {
        Set(
            (group?.members ?? []).map {
                "\($0.slice.parameter)@\($0.slice.axis)+\($0.slice.offset)x\($0.slice.width)r\($0.repeats)s\($0.stride)"
            })
    }

    @Test("A grouped Conv's input and output channels are two groups of in-group positions, repeated per group")
    func groupedGroups() throws {
        let groups = try analysis(TestGraphs.groupedConv())
        #expect(groups.keys.sorted() == ["conv1", "conv3", "gconv"])
        #expect(groups["conv1"]?.unitCount == 4 && groups["gconv"]?.unitCount == 4)
        #expect(
            repeatedSlices(groups["conv1"]) == [
                "conv1.weight@0+0x1r2s4", "conv1.bias@0+0x1r2s4", "gconv.weight@1+0x1r2s0",
            ])
        #expect(
            repeatedSlices(groups["gconv"]) == [
                "gconv.weight@0+0x1r2s4", "gconv.bias@0+0x1r2s4", "conv3.weight@1+0x1r2s4",
            ])
    }

    @Test("A grouped Conv with fewer outputs than inputs: inputs repeat every 4 channels, outputs every 2")
    func groupedNarrowing() throws {
        let groups = try analysis(TestGraphs.groupedConv(out: 4))
        #expect(groups["conv1"]?.isPrunable == true && groups["conv1"]?.unitCount == 4)
        #expect(
            repeatedSlices(groups["conv1"]) == [
                "conv1.weight@0+0x1r2s4", "conv1.bias@0+0x1r2s4", "gconv.weight@1+0x1r2s0",
            ])
        #expect(groups["gconv"]?.unitCount == 2)
        #expect(
            repeatedSlices(groups["gconv"]) == [
                "gconv.weight@0+0x1r2s2", "gconv.bias@0+0x1r2s2", "conv3.weight@1+0x1r2s2",
            ])
    }

    static let cases: [(String, Onnx_ModelProto)] = [
        ("split", TestGraphs.split()), ("split-equal", TestGraphs.split(equal: true)), ("slice", TestGraphs.slice()),
        ("grouped-narrowing", TestGraphs.groupedConv(out: 4)),
    ]

    @Test("Removing positions through a grouped Conv equals zeroing them: rows, in-group columns and consumers")
    func groupedRemovalIsExact() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.groupedConv(), as: "grouped")
        let analysis = try StructureAnalysis(model: document.model)
        let conv1 = try #require(analysis.group(named: "conv1"))
        let gconv = try #require(analysis.group(named: "gconv"))
        // conv1's positions 0 and 1 (channels 0, 1, 4, 5) and gconv's position 3 (channels 3, 7).
        let selection = Selection(entries: [
            Selection.Entry(target: conv1.target, decision: .prune(Mask(count: 4, setting: [0, 1]))),
            Selection.Entry(target: gconv.target, decision: .prune(Mask(count: 4, setting: [3]))),
        ])
        let removed = try RemoveRewriter().rewrite(
            document.model, applying: selection, in: PruneContext(model: document.model)).model
        let removedURL = harness.directory.appendingPathComponent("grouped-exact.onnx")
        _ = try document.write(removed, to: removedURL, metadata: [:], overwrite: true)

        // The reference: the same channels silenced in the dense model by zeroing what produces them.
        var zeroed = document.model
        for (name, channels) in [
            ("conv1.weight", [0, 1, 4, 5]), ("conv1.bias", [0, 1, 4, 5]), ("gconv.weight", [3, 7]),
            ("gconv.bias", [3, 7]),
        ] {
            let axis = 0
            let tensor = try zeroed.parameter(named: name).tensor
            var mask: [Int] = []
            UnitSlice(parameter: name, axis: axis).forEachElement(inShape: tensor.shape, units: tensor.shape[axis]) {
                unit, element in if channels.contains(unit) { mask.append(element) }
            }
            try zeroed.setTensor(tensor.zeroing(Mask(count: tensor.elementCount, setting: mask)), for: name)
        }
        let zeroedURL = harness.directory.appendingPathComponent("grouped-zeroed.onnx")
        _ = try document.write(zeroed, to: zeroedURL, metadata: [:], overwrite: true)

        #expect(removed["gconv.weight"]?.tensor.shape == [6, 2, 3, 3])
        let shape = [2, 3, 5, 5]
        let input = Harness.inputs(shape.reduce(1, *))
        let want = try Harness.run(zeroedURL, input: "input", shape: shape, values: input, output: "logits")
        let got = try Harness.run(removedURL, input: "input", shape: shape, values: input, output: "logits")
        #expect(close(got, want))
        try RuntimeCheck.expect(removedURL, input: "input", shape: shape, values: input, output: "logits", want: want)
    }

    @Test("Removing zero units keeps the outputs (interpreter and ONNX Runtime)", arguments: 0..<cases.count)
    func zeroUnitsRemoved(_ which: Int) throws {
        let (name, proto) = Self.cases[which]
        let shape = [2, 3, 5, 5]
        let harness = try Harness()
        let dense = try harness.open(proto, as: name)
        let masked = try harness.prune(
            dense, selector: LayerSelector(sparsity: 0.5), rewriter: MaskRewriter(), name: "\(name)-masked")
        let removed = try harness.prune(
            ONNXDocument(url: masked.url), selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(),
            name: "\(name)-removed")
        let input = Harness.inputs(shape.reduce(1, *))
        let want = try Harness.run(masked.url, input: "input", shape: shape, values: input, output: "logits")
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        #expect(close(got, want), "\(name): outputs changed by removing zero units")
        #expect(removed.model.parameterCount < dense.model.parameterCount, "\(name): nothing was removed")
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: got)
    }

    @Test("Split sizes and Slice bounds follow the removed channels")
    func rewrittenArguments() throws {
        let harness = try Harness()
        let split = try harness.prune(
            harness.open(TestGraphs.split(), as: "split"), selector: LayerSelector(sparsity: 0.5),
            rewriter: RemoveRewriter(), name: "split-removed")
        // round-half-even: 1 of 2 and 2 of 4 channels go.
        let splitDocument = try ONNXDocument(url: split.url)
        #expect(splitDocument.model["split_sizes"]?.tensor.withFloatValuesAsInt64() == [1, 2])

        let equal = try ONNXDocument(
            url: harness.prune(
                harness.open(TestGraphs.split(equal: true), as: "equal"), selector: LayerSelector(sparsity: 0.5),
                rewriter: RemoveRewriter(), name: "equal-removed"
            ).url)
        let node = try #require(equal.proto.graph.node.first { $0.name == "split" })
        let constant = try #require(equal.proto.graph.node.first { $0.output.first == node.input.last })
        #expect(node.input.count == 2 && constant.opType == "Constant")
        #expect(constant.attribute.first?.t.rawData.count == 16)

        let slice = try ONNXDocument(
            url: harness.prune(
                harness.open(TestGraphs.slice(), as: "slice"), selector: LayerSelector(sparsity: 0.5),
                rewriter: RemoveRewriter(), name: "slice-removed"
            ).url)
        // 1 of [0, 2), 2 of [2, 6), 1 of [6, 8) go: the kept range [2, 6) becomes [1, 3).
        #expect(slice.model["starts"]?.tensor.withFloatValuesAsInt64() == [1])
        #expect(slice.model["ends"]?.tensor.withFloatValuesAsInt64() == [3])
        #expect(slice.model["conv1.weight"]?.tensor.shape == [4, 3, 3, 3])
    }

    @Test("A grouped Conv loses the same positions in every group: rows, in-group columns, group attribute kept")
    func groupedUniform() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.groupedConv(), as: "grouped")
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "grouped-removed")
        let written = try ONNXDocument(url: removed.url)
        // 2 of the 4 positions go on each side: rows 8 → 4, in-group columns 4 → 2, group stays 2.
        #expect(written.model["gconv.weight"]?.tensor.shape == [4, 2, 3, 3])
        #expect(written.model["conv1.weight"]?.tensor.shape == [4, 3, 3, 3])
        #expect(written.proto.graph.node.first { $0.name == "gconv" }?.attribute.first { $0.name == "group" }?.i == 2)
    }
}
