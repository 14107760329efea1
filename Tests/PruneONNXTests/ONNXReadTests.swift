import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import Testing

@Suite("Reading ONNX models")
struct ONNXReadTests {
    @Test("An MLP's initializers become parameters; only Gemm weights get a layout, from transB")
    func mlpParameters() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("mlp.onnx")
        try TestModels.write(TestModels.mlp(), to: url)
        let opened = try ModelFiles.open(url)
        let document = try #require(opened as? ONNXDocument)
        let model = document.model
        #expect(document.formatName == "onnx")
        #expect(model.parameterNames == ["W1", "B1", "W2", "B2"])
        #expect(model["W1"]?.layout == WeightLayout(outputAxis: 0, inputAxis: 1))  // transB = 1: [out, in]
        #expect(model["W2"]?.layout == WeightLayout(outputAxis: 1, inputAxis: 0))  // transB = 0: [in, out]
        #expect(model["B1"]?.layout == nil)
        #expect(model["B2"]?.layout == nil)
        #expect(model["W1"]?.tensor.shape == [8, 4])
        #expect(model["W1"]?.tensor.dtype == .f32)
        #expect(model["W1"]?.tensor.floatValues() == TestModels.values(32, seed: 1))
        #expect(model["W2"]?.tensor.floatValues() == TestModels.values(24, seed: 3))  // from float_data
        #expect(model.metadata == ["author": "PruneONNXTests"])
        #expect(document.warnings.isEmpty)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        #expect(document.fileSize == size)

        let candidates = try TargetFilter().resolve(in: model).targets.map(\.name)
        #expect(candidates == ["W1", "W2"])
    }

    @Test("raw_data tensors are views of the mapped file, not copies")
    func rawDataIsMapped() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("conv.onnx")
        try TestModels.write(TestModels.conv(), to: url)
        let document = try ONNXDocument(url: url)
        let mapped = document.file.bytes(0..<document.file.size)
        for parameter in document.model.parameters {
            let raw = parameter.tensor.bytes.raw
            let start = try #require(raw.baseAddress)
            let fileStart = try #require(mapped.baseAddress)
            #expect(start >= fileStart && start + raw.count <= fileStart + mapped.count, "\(parameter.name)")
        }
    }

    @Test("MatMul weights are [in, out]; batched weights use their last two axes")
    func matMulLayouts() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("matmul.onnx")
        try TestModels.write(TestModels.matMul(), to: url)
        let model = try ONNXDocument(url: url).model
        #expect(model["W1"]?.layout == WeightLayout(outputAxis: 1, inputAxis: 0))
        #expect(model["W2"]?.layout == WeightLayout(outputAxis: 2, inputAxis: 1))
        #expect(model["B"]?.layout == nil)
    }

    @Test("Conv weights are [out, in/group, kh, kw]; BatchNormalization parameters get no layout")
    func convLayouts() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("conv.onnx")
        try TestModels.write(TestModels.conv(), to: url)
        let model = try ONNXDocument(url: url).model
        #expect(model["W"]?.layout == .pytorch)
        #expect(model["W2"]?.layout == .pytorch)
        for name in ["B", "bn_scale", "bn_bias", "bn_mean", "bn_var", "B2"] {
            #expect(model[name]?.layout == nil, "\(name)")
        }
    }

    @Test("A weight two nodes read with different layouts gets none, and a warning says why")
    func conflictingLayouts() throws {
        let graph = TestModels.graph(
            "tied",
            nodes: [
                TestModels.node("Gemm", ["x", "W"], ["a"], name: "g", [TestModels.intAttribute("transB", 1)]),
                TestModels.node("MatMul", ["a", "W"], ["y"], name: "m"),
            ],
            inputs: [TestModels.valueInfo("x", [1, 4])], outputs: [TestModels.valueInfo("y", [1, 4])],
            initializers: [TestModels.floatTensor("W", [4, 4], seed: 1)])
        let directory = try TemporaryDirectory()
        let url = directory.file("tied.onnx")
        try TestModels.write(TestModels.model(graph), to: url)
        let document = try ONNXDocument(url: url)
        #expect(document.model["W"]?.layout == nil)
        #expect(document.warnings.count == 1)
        #expect(document.warnings.first?.contains("'W' gets no weight layout") == true)
        #expect(document.warnings.first?.contains("g (Gemm)") == true)
        #expect(document.warnings.first?.contains("m (MatMul)") == true)
    }

    @Test("Weights held in Constant nodes become initializers, parameters with their reader's layout")
    func constantNodeWeights() throws {
        var value = Onnx_AttributeProto()
        value.name = "value"
        value.type = .tensor
        value.t = TestModels.floatTensor("", [4, 2], seed: 1)
        let graph = TestModels.graph(
            "constant",
            nodes: [
                TestModels.node("Constant", [], ["W"], name: "weights", [value]),
                TestModels.node("MatMul", ["x", "W"], ["y"], name: "mm"),
            ],
            inputs: [TestModels.valueInfo("x", [1, 4])], outputs: [TestModels.valueInfo("y", [1, 2])],
            initializers: [])
        let directory = try TemporaryDirectory()
        let url = directory.file("constant.onnx")
        try TestModels.write(TestModels.model(graph), to: url)
        let document = try ONNXDocument(url: url)
        #expect(document.model.parameters.map(\.name) == ["W"])
        #expect(document.model["W"]?.layout == WeightLayout(outputAxis: 1, inputAxis: 0))
        #expect(document.model["W"]?.tensor.floatValues() == TestModels.values(8, seed: 1))
        #expect(document.warnings.isEmpty)
        let compute = document.inspectionSections().first { $0.title == "Compute" }
        #expect(compute?.rows.first == ["mm", "MatMul", "W", "8"])

        let output = directory.file("out.onnx")
        _ = try document.write(document.model, to: output, metadata: [:], overwrite: false)
        let written = try TestModels.decode(output)
        #expect(written.graph.node.map(\.opType) == ["MatMul"])
        #expect(written.graph.initializer.map(\.name) == ["W"])
    }

    @Test("Constant weights inside If branches move to the main graph, renamed apart, with their layouts")
    func branchWeightsAreHoisted() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("branches.onnx")
        try TestModels.write(CanonicalizationRuntimeTests.branchWeights(), to: url)
        let document = try ONNXDocument(url: url)
        #expect(document.model.parameters.map(\.name) == ["W.choose.1", "W.choose.2"])
        #expect(document.model.parameters.allSatisfy { $0.layout == WeightLayout(outputAxis: 1, inputAxis: 0) })
        #expect(document.model["W.choose.2"]?.tensor.floatValues() == TestModels.values(8, seed: 4))
        #expect(document.warnings.isEmpty)
        let canonical = try #require(document.model.graph as? ONNXModelGraph).proto
        let branches = canonical.node[0].attribute.map(\.g)
        #expect(branches.map { $0.node.map(\.opType) } == [["MatMul"], ["MatMul"]])
        #expect(branches.map { $0.node[0].input } == [["x", "W.choose.1"], ["x", "W.choose.2"]])
    }

    @Test("Identity chains from an initializer are bypassed; one whose output is a graph output stays")
    func identityChains() throws {
        let graph = TestModels.graph(
            "identity",
            nodes: [
                TestModels.node("Identity", ["W"], ["W1"], name: "id1"),
                TestModels.node("Identity", ["W1"], ["W2"], name: "id2"),
                TestModels.node("MatMul", ["x", "W2"], ["y"], name: "mm"),
                TestModels.node("Identity", ["W"], ["z"], name: "exposed"),
            ],
            inputs: [TestModels.valueInfo("x", [1, 4])],
            outputs: [TestModels.valueInfo("y", [1, 2]), TestModels.valueInfo("z", [4, 2])],
            initializers: [TestModels.floatTensor("W", [4, 2], seed: 2)])
        let directory = try TemporaryDirectory()
        let url = directory.file("identity.onnx")
        try TestModels.write(TestModels.model(graph), to: url)
        let document = try ONNXDocument(url: url)
        #expect(document.model["W"]?.layout == WeightLayout(outputAxis: 1, inputAxis: 0))
        let canonical = try #require(document.model.graph as? ONNXModelGraph).proto
        #expect(canonical.node.map(\.name) == ["mm", "exposed"])
        #expect(canonical.node.first?.input == ["x", "W"])
    }

    @Test(
        "Opsets 13–21 open silently, all others with a warning",
        arguments: [
            (Int64(13), false), (17, false), (21, false), (12, true), (6, true), (22, true),
        ])
    func opsetPolicy(version: Int64, warns: Bool) throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("m.onnx")
        var model = TestModels.matMul()
        model.opsetImport = [TestModels.opset("", version)]
        try TestModels.write(model, to: url)
        let document = try ONNXDocument(url: url)
        #expect(document.warnings.contains { $0.contains("opset \(version)") } == warns)
    }

    @Test("An opset version of 0 is refused, naming the file")
    func opsetZero() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("m.onnx")
        var model = TestModels.matMul()
        model.opsetImport = [TestModels.opset("", 0)]
        try TestModels.write(model, to: url)
        let error = try #require(throws: PruneError.self) { try ONNXDocument(url: url) }
        #expect(error.kind == .corruptFile)
        #expect(error.message.hasPrefix(url.path))
    }

    @Test("Every element type the onnx package writes reads back as numpy sees it")
    func pythonFixture() throws {
        let url = try Fixtures.url("python_mlp.onnx")
        let document = try ONNXDocument(url: url)
        let expected = try Fixtures.expected()["python_mlp.onnx"] ?? [:]
        #expect(!expected.isEmpty)
        for (name, reference) in expected {
            guard let parameter = document.model[name] else {
                // UINT16 is kept in the file but not exposed.
                #expect(reference.dtype == "UINT16", "\(name) should be exposed")
                continue
            }
            let tensor = parameter.tensor
            #expect(tensor.shape == reference.shape, "\(name)")
            #expect(ONNXDataType.name(ONNXDataType.onnxType(tensor.dtype)) == reference.dtype, "\(name)")
            switch tensor.dtype {
            case .f64:
                let raw = tensor.bytes.raw
                let doubles = (0..<tensor.elementCount).map {
                    raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)
                }
                #expect(doubles == reference.values, "\(name)")
            case .i64:
                let raw = tensor.bytes.raw
                let ints = (0..<tensor.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
                #expect(ints == reference.values.map { Int64($0) }, "\(name)")
            default:
                #expect(tensor.floatValues() == reference.values.map { Float($0) }, "\(name)")
            }
        }
        #expect(document.model["W1"]?.layout == WeightLayout(outputAxis: 0, inputAxis: 1))
        #expect(document.model["W2"]?.layout == WeightLayout(outputAxis: 1, inputAxis: 0))
        #expect(document.warnings.count == 1)
        #expect(document.warnings.first?.contains("'u16_hidden' is kept as is but not exposed") == true)
        #expect(document.model.metadata == ["author": "PruneKit tests", "purpose": "reference values"])
    }

    @Test("External data written by the onnx package reads back as numpy sees it")
    func pythonExternalFixture() throws {
        let url = try Fixtures.url("python_external.onnx")
        let document = try ONNXDocument(url: url)
        let expected = try Fixtures.expected()["python_external.onnx"] ?? [:]
        for (name, reference) in expected {
            let tensor = try #require(document.model[name]?.tensor)
            #expect(tensor.shape == reference.shape)
            #expect(tensor.floatValues() == reference.values.map { Float($0) }, "\(name)")
        }
        #expect(document.externalFiles.map { $0.url.lastPathComponent } == ["python_external.onnx.data"])
        #expect(document.model["W"]?.layout == .pytorch)
    }
}

/// The committed fixtures made by `Scripts/fixtures/make_onnx_fixtures.py`.
enum Fixtures {
    struct Reference: Decodable {
        var dtype: String
        var shape: [Int]
        var values: [Double]
    }

    static func url(_ name: String) throws -> URL {
        let base = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        return try #require(Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "Fixtures"))
    }

    static func expected() throws -> [String: [String: Reference]] {
        try JSONDecoder().decode(
            [String: [String: Reference]].self, from: Data(contentsOf: url("python_expected.json")))
    }
}
