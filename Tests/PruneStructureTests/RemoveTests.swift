import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneStructure
import Testing

@Suite("Removing channels and neurons")
struct RemoveTests {
    /// Every test graph with its input shape.
    static let cases: [(String, Onnx_ModelProto, [Int])] = [
        ("cnn", TestGraphs.cnn(), [2, 3, 6, 6]), ("cnn-reshape", TestGraphs.cnn(reshape: true), [2, 3, 6, 6]),
        ("residual", TestGraphs.residual(), [2, 3, 5, 5]), ("concat", TestGraphs.concat(), [2, 3, 5, 5]),
        ("depthwise", TestGraphs.depthwise(), [2, 3, 5, 5]), ("matmul", TestGraphs.matMulMLP(), [2, 6]),
        ("blocked", TestGraphs.blocked(), [2, 3, 5, 5]),
    ]

    @Test(
        "Removing units whose weights are zero leaves the outputs unchanged", arguments: 0..<RemoveTests.cases.count)
    func zeroUnitsRemovedKeepOutputs(_ which: Int) throws {
        let (name, proto, shape) = RemoveTests.cases[which]
        let harness = try Harness()
        let dense = try harness.open(proto, as: name)
        let masked = try harness.prune(
            dense, selector: LayerSelector(sparsity: 0.5), rewriter: MaskRewriter(), name: "\(name)-masked")
        let maskedDocument = try ONNXDocument(url: masked.url)
        let removed = try harness.prune(
            maskedDocument, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "\(name)-removed")

        let input = Harness.inputs(shape.reduce(1, *))
        let want = try Harness.run(masked.url, input: "input", shape: shape, values: input, output: "logits")
        let got = try Harness.run(removed.url, input: "input", shape: shape, values: input, output: "logits")
        #expect(close(got, want), "\(name): outputs changed by removing zero units")
        #expect(removed.model.parameterCount < dense.model.parameterCount, "\(name): nothing was removed")
        try RuntimeCheck.expect(removed.url, input: "input", shape: shape, values: input, output: "logits", want: got)
    }

    @Test("The CNN loses whole channels: shapes, the Reshape constant and value_info follow")
    func cnnShapes() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.cnn(reshape: true), as: "cnn")
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "cnn-removed")
        let shapes = Dictionary(uniqueKeysWithValues: removed.model.parameters.map { ($0.name, $0.tensor.shape) })
        #expect(shapes["conv1.weight"] == [2, 3, 3, 3])
        #expect(shapes["bn1.running_var"] == [2])
        #expect(shapes["conv2.weight"] == [3, 2, 3, 3])
        #expect(shapes["fc1.weight"] == [4, 27])
        #expect(shapes["fc2.weight"] == [5, 4])
        let written = try ONNXDocument(url: removed.url)
        #expect(written.model["flat_shape"]?.tensor.withFloatValuesAsInt64() == [0, 27])
        let info = Dictionary(uniqueKeysWithValues: written.proto.graph.valueInfo.map { ($0.name, $0) })
        #expect(info["c2"]?.type.tensorType.shape.dim.map(\.dimValue) == [0, 3, 6, 6])
        #expect(info["f"]?.type.tensorType.shape.dim.map(\.dimValue) == [0, 27])
    }

    @Test("The depthwise Conv's group attribute follows its channels")
    func depthwiseGroup() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.depthwise(), as: "dw")
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "dw-removed")
        let written = try ONNXDocument(url: removed.url)
        let dw = try #require(written.proto.graph.node.first { $0.name == "dw" })
        #expect(dw.attribute.first { $0.name == "group" }?.i == 2)
        #expect(written.model["dw.weight"]?.tensor.shape == [4, 1, 3, 3])
    }

    @Test("'remove' refuses single-tensor unit targets and models without a graph")
    func refusesNonGroups() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.cnn(), as: "cnn")
        let stage = Stage(
            targets: TargetFilter(granularity: .unit), scorer: MagnitudeScorer(p: 2),
            selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter())
        #expect(throws: PruneError.self) {
            try Pipeline([stage]).run(on: document.model, context: PruneContext(model: document.model))
        }
    }
}

extension Tensor {
    /// The values of an INT64 tensor, for assertions.
    func withFloatValuesAsInt64() -> [Int64] {
        var bytes: [UInt8] = []
        forEachByteChunk { bytes.append(contentsOf: $0) }
        return bytes.withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
        }
    }
}
