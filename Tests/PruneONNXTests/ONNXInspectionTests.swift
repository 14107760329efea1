import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import Testing

@Suite("Inspecting ONNX models")
struct ONNXInspectionTests {
    private func sections(_ model: Onnx_ModelProto) throws -> [String: InspectionSection] {
        let directory = try TemporaryDirectory()
        let url = directory.file("m.onnx")
        try TestModels.write(model, to: url)
        let sections = try ONNXDocument(url: url).inspectionSections()
        return Dictionary(uniqueKeysWithValues: sections.map { ($0.title, $0) })
    }

    @Test("Conv model: inputs with symbolic dims, operator counts, MACs through Conv, pooling and Gemm")
    func convSections() throws {
        let sections = try sections(TestModels.conv())
        #expect(sections["Inputs"]?.rows == [["x", "FLOAT", "[batch, 3, 8, 8]"]])
        #expect(sections["Outputs"]?.rows == [["y", "FLOAT", "[batch, 2]"]])
        #expect(sections["Operators"]?.rows.count == 7)
        #expect(sections["Operators"]?.rows.allSatisfy { $0[1] == "1" } == true)
        // Conv: 1 × 8 × 8 outputs × (4 × 3 × 3 × 3) weights = 6912; Gemm: 1 × 2 × 4 = 8.
        #expect(
            sections["Compute"]?.rows == [
                ["conv", "Conv", "W", "6,912"], ["fc", "Gemm", "W2", "8"], ["total", "", "", "6,920"],
            ])
        let w = sections["Initializers"]?.rows.first { $0[0] == "W" }
        #expect(w == ["W", "FLOAT", "[4, 3, 3, 3]", "0.00%", "raw_data", "conv (Conv)", "out 0, in 1"])
        #expect(sections["Notes"] == nil)
        let model = sections["Model"]?.rows ?? []
        #expect(model.contains(["opsets", "ai.onnx 13"]))
        #expect(model.contains(["batch symbols taken as 1", "batch"]))
    }

    @Test("MatMul model: batched MatMul MACs broadcast over the batch dimensions")
    func matMulCompute() throws {
        let sections = try sections(TestModels.matMul())
        // mm1: 2 × 5 × 3 × 4 = 120; mm2: 2 × 5 × 6 × 3 = 180.
        #expect(
            sections["Compute"]?.rows == [
                ["mm1", "MatMul", "W1", "120"], ["mm2", "MatMul", "W2", "180"], ["total", "", "", "300"],
            ])
    }

    @Test("Reshape shapes computed by Shape → Gather → Unsqueeze → Concat are folded")
    func foldedReshape() throws {
        func constant(_ name: String, _ values: [Int64], dims: [Int64]) -> Onnx_NodeProto {
            var tensor = Onnx_TensorProto()
            tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            tensor.dims = dims
            tensor.int64Data = values
            var attribute = Onnx_AttributeProto()
            attribute.name = "value"
            attribute.type = .tensor
            attribute.t = tensor
            return TestModels.node("Constant", [], [name], name: name, [attribute])
        }
        var rest = Onnx_TensorProto()  // an INT64 initializer (the other shape arguments are Constant nodes)
        rest.name = "rest"
        rest.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        rest.dims = [1]
        rest.rawData = withUnsafeBytes(of: Int64(-1).littleEndian) { Data($0) }
        let graph = TestModels.graph(
            "reshape",
            nodes: [
                TestModels.node("Shape", ["x"], ["s"], name: "shape"), constant("zero", [0], dims: []),
                TestModels.node("Gather", ["s", "zero"], ["n"], name: "gather"),
                constant("axes", [0], dims: [1]), TestModels.node("Unsqueeze", ["n", "axes"], ["n1"], name: "unsq"),
                TestModels.node(
                    "Concat", ["n1", "rest"], ["target"], name: "concat", [TestModels.intAttribute("axis", 0)]),
                TestModels.node("Reshape", ["x", "target"], ["flat"], name: "reshape"),
                TestModels.node("Gemm", ["flat", "W"], ["y"], name: "fc", [TestModels.intAttribute("transB", 1)]),
            ],
            inputs: [TestModels.valueInfo("x", ["N", 4, 2, 2])], outputs: [TestModels.valueInfo("y", ["N", 3])],
            initializers: [TestModels.floatTensor("W", [3, 16], seed: 1), rest])
        let sections = try sections(TestModels.model(graph, opset: 13))
        #expect(sections["Compute"]?.rows == [["fc", "Gemm", "W", "48"], ["total", "", "", "48"]])
        let restRow = sections["Initializers"]?.rows.first { $0[0] == "rest" }
        #expect(restRow == ["rest", "INT64", "[1]", "0.00%", "raw_data", "concat (Concat)", ""])
    }

    @Test("Unknown shapes make MACs unknown instead of guessing; value_info fills gaps")
    func unknownShapes() throws {
        var graph = TestModels.graph(
            "custom",
            nodes: [
                {
                    var node = TestModels.node("Mystery", ["x"], ["m"], name: "custom")
                    node.domain = "example.custom"
                    return node
                }(),
                TestModels.node("MatMul", ["m", "W"], ["y"], name: "mm"),
                TestModels.node("MatMul", ["y", "W2"], ["z"], name: "mm2"),
            ],
            inputs: [TestModels.valueInfo("x", ["batch", 4])], outputs: [TestModels.valueInfo("z", ["batch", 2])],
            initializers: [
                TestModels.floatTensor("W", [4, 4], seed: 1), TestModels.floatTensor("W2", [4, 2], seed: 2),
            ])
        var model = TestModels.model(graph)
        model.opsetImport.append(TestModels.opset("example.custom", 1))
        var sections = try sections(model)
        #expect(
            sections["Compute"]?.rows == [
                ["mm", "MatMul", "W", "unknown"], ["mm2", "MatMul", "W2", "unknown"],
                ["total", "", "", "0 + 2 unknown"],
            ])
        #expect(sections["Operators"]?.rows == [["MatMul", "2"], ["example.custom.Mystery", "1"]])

        graph.valueInfo = [TestModels.valueInfo("m", ["batch", 4])]
        model.graph = graph
        sections = try self.sections(model)
        #expect(sections["Compute"]?.rows.last == ["total", "", "", "24"])
    }

    @Test("Notes list unexposed initializers and opset warnings")
    func notes() throws {
        var model = TestModels.matMul()
        model.opsetImport = [TestModels.opset("", 11)]
        var hidden = Onnx_TensorProto()
        hidden.name = "strings"
        hidden.dataType = Int32(Onnx_TensorProto.DataType.string.rawValue)
        hidden.dims = [1]
        hidden.stringData = [Data("hello".utf8)]
        model.graph.initializer.append(hidden)
        let sections = try sections(model)
        let notes = sections["Notes"]?.rows.map { $0[0] } ?? []
        #expect(notes.count == 2)
        #expect(notes.contains { $0.contains("opset 11") })
        #expect(notes.contains { $0.contains("'strings' is kept as is but not exposed: element type STRING") })
        let row = sections["Initializers"]?.rows.first { $0[0] == "strings" }
        #expect(row == ["strings", "STRING", "[1]", "n/a", "typed fields", "", ""])
    }
}
