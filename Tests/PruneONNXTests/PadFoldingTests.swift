import Foundation
import ONNXProto
import PruneFormats
import Testing

/// Constant `Pad` nodes fold into the Conv or pool that reads them only where the result is exactly the same;
/// `CanonicalizationRuntimeTests` runs the folded models against the originals in ONNX Runtime.
@Suite("Folding a constant Pad into its reader")
struct PadFoldingTests {
    /// A `[1, 2, 5, 5]` input padded by `pads` (NCHW begin, then end) in `mode` with `value`, read by `reader`.
    static func padded(
        _ name: String, reader: Onnx_NodeProto, mode: String = "constant", value: Float? = 0,
        pads: [Int64] = [0, 0, 1, 2, 0, 0, 2, 1], output: [Int], initializers: [Onnx_TensorProto] = []
    ) -> Onnx_ModelProto {
        var padsTensor = Onnx_TensorProto()
        padsTensor.name = "pads"
        padsTensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        padsTensor.dims = [Int64(pads.count)]
        padsTensor.int64Data = pads
        var inputs = ["x", "pads"]
        var tensors = [padsTensor] + initializers
        if let value {
            var constant = Onnx_TensorProto()
            constant.name = "pad_value"
            constant.dataType = TestModels.float
            constant.floatData = [value]
            tensors.append(constant)
            inputs.append("pad_value")
        }
        var modeAttribute = Onnx_AttributeProto()
        modeAttribute.name = "mode"
        modeAttribute.type = .string
        modeAttribute.s = Data(mode.utf8)
        let graph = TestModels.graph(
            name,
            nodes: [TestModels.node("Pad", inputs, ["p"], name: "pad", [modeAttribute]), reader],
            inputs: [TestModels.valueInfo("x", [1, 2, 5, 5])], outputs: [TestModels.valueInfo("y", output.map { .value(Int64($0)) })],
            initializers: tensors)
        return TestModels.model(graph)
    }

    /// The foldable cases, each with the reader's pads after folding.
    static func foldable() -> [(String, Onnx_ModelProto, [Int64])] {
        let conv = TestModels.node(
            "Conv", ["p", "W"], ["y"], name: "conv",
            [TestModels.intsAttribute("kernel_shape", [3, 3]), TestModels.intsAttribute("pads", [1, 0, 1, 0])])
        let maxPool = TestModels.node(
            "MaxPool", ["p"], ["y"], name: "pool", [TestModels.intsAttribute("kernel_shape", [3, 3])])
        let averagePool = TestModels.node(
            "AveragePool", ["p"], ["y"], name: "pool",
            [TestModels.intsAttribute("kernel_shape", [2, 2]), TestModels.intAttribute("count_include_pad", 1)])
        return [
            ("pad-conv", padded("pad-conv", reader: conv, output: [1, 3, 8, 6],
                initializers: [TestModels.floatTensor("W", [3, 2, 3, 3], seed: 5)]), [2, 2, 3, 1]),
            ("pad-maxpool-inf", padded("pad-maxpool-inf", reader: maxPool, value: -.infinity, output: [1, 2, 6, 6]),
                [1, 2, 2, 1]),
            ("pad-maxpool-edge", padded("pad-maxpool-edge", reader: maxPool, mode: "edge", value: nil,
                output: [1, 2, 6, 6]), [1, 2, 2, 1]),
            ("pad-averagepool", padded("pad-averagepool", reader: averagePool, pads: [0, 0, 1, 1, 0, 0, 1, 1],
                output: [1, 2, 6, 6]), [1, 1, 1, 1]),
        ]
    }

    @Test("Zeros into a Conv, −∞ and edge values into a MaxPool, zeros into a counting AveragePool")
    func folds() throws {
        for (name, model, pads) in Self.foldable() {
            var graph = model.graph
            let summary = ONNXCanonicalization.apply(to: &graph)
            #expect(summary.foldedPads == 1, "\(name)")
            #expect(graph.node.map(\.opType) == [model.graph.node[1].opType], "\(name)")
            #expect(graph.node.first?.input.first == "x", "\(name)")
            #expect(graph.node.first?.attribute.first { $0.name == "pads" }?.ints == pads, "\(name)")
        }
    }

    @Test("What would change an output stays a Pad")
    func keeps() throws {
        let conv = TestModels.node(
            "Conv", ["p", "W"], ["y"], name: "conv", [TestModels.intsAttribute("kernel_shape", [3, 3])])
        let weight = [TestModels.floatTensor("W", [3, 2, 3, 3], seed: 5)]
        let maxPool = TestModels.node(
            "MaxPool", ["p"], ["y"], name: "pool", [TestModels.intsAttribute("kernel_shape", [3, 3])])
        let averagePool = TestModels.node(
            "AveragePool", ["p"], ["y"], name: "pool", [TestModels.intsAttribute("kernel_shape", [2, 2])])
        let countingAverage = TestModels.node(
            "AveragePool", ["p"], ["y"], name: "pool",
            [TestModels.intsAttribute("kernel_shape", [2, 2]), TestModels.intAttribute("count_include_pad", 1)])
        let smallKernel = TestModels.node(
            "MaxPool", ["p"], ["y"], name: "pool", [TestModels.intsAttribute("kernel_shape", [2, 2])])
        let cases = [
            Self.padded("nonzero", reader: conv, value: 1, output: [1, 3, 6, 6], initializers: weight),
            Self.padded("reflect", reader: conv, mode: "reflect", value: nil, output: [1, 3, 6, 6], initializers: weight),
            Self.padded("channels", reader: conv, pads: [0, 1, 0, 0, 0, 0, 0, 0], output: [1, 3, 3, 3], initializers: weight),
            Self.padded("zero-maxpool", reader: maxPool, output: [1, 2, 6, 6]),
            Self.padded("excluding-average", reader: averagePool, output: [1, 2, 7, 7]),
            Self.padded("pads-reach-kernel", reader: countingAverage, output: [1, 2, 7, 7]),
            Self.padded("edge-wider-than-kernel", reader: smallKernel, mode: "edge", value: nil,
                pads: [0, 0, 2, 0, 0, 0, 0, 0], output: [1, 2, 6, 4]),
        ]
        for model in cases {
            var graph = model.graph
            #expect(ONNXCanonicalization.apply(to: &graph).foldedPads == 0, "\(model.graph.name)")
            #expect(graph.node.count == 2, "\(model.graph.name)")
        }
    }

    /// Pads computed from a Shape: `Concat([0] * 7, Gather(Shape(x), [0]))` puts the batch extent on the end of the
    /// width axis. With a fixed batch of 1 that is the constant 1 and folds (the sub-graph goes with the Pad); with a
    /// symbolic batch inference takes it as 1 too, which holds for batch 1 only, so the Pad stays.
    @Test("Pads computed from a Shape fold only when every input extent is fixed")
    func shapeDependentPads() throws {
        func model(batch: TestModels.Dim) -> Onnx_GraphProto {
            var zeros = Onnx_TensorProto()
            zeros.name = "zeros"
            zeros.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            zeros.dims = [7]
            zeros.int64Data = Array(repeating: 0, count: 7)
            var first = zeros
            first.name = "first"
            first.dims = [1]
            first.int64Data = [0]
            return TestModels.graph(
                "shape-pads",
                nodes: [
                    TestModels.node("Shape", ["x"], ["s"], name: "shape"),
                    TestModels.node("Gather", ["s", "first"], ["n"], name: "gather"),
                    TestModels.node(
                        "Concat", ["zeros", "n"], ["pads"], name: "concat", [TestModels.intAttribute("axis", 0)]),
                    TestModels.node("Pad", ["x", "pads"], ["p"], name: "pad"),
                    TestModels.node(
                        "Conv", ["p", "W"], ["y"], name: "conv", [TestModels.intsAttribute("kernel_shape", [3, 3])]),
                ],
                inputs: [TestModels.valueInfo("x", [batch, 2, 5, 5])],
                outputs: [TestModels.valueInfo("y", [batch, 3, 3, 4])],
                initializers: [zeros, first, TestModels.floatTensor("W", [3, 2, 3, 3], seed: 5)])
        }
        var fixed = model(batch: 1)
        #expect(ONNXCanonicalization.apply(to: &fixed).foldedPads == 1)
        #expect(fixed.node.map(\.opType) == ["Conv"])
        #expect(fixed.node.first?.attribute.first { $0.name == "pads" }?.ints == [0, 0, 0, 1])
        var symbolic = model(batch: "N")
        #expect(ONNXCanonicalization.apply(to: &symbolic).foldedPads == 0)
        #expect(symbolic.node.count == 5)
    }
}
