import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneTestSupport
import Testing

/// `sparse_initializer`: written by `--storage sparse|auto`, read (densified once) by the document, checked against
/// hostile files, and accepted by the ONNX checker and ONNX Runtime with the outputs of the dense-masked file.
@Suite("ONNX sparse_initializer")
struct SparseInitializerTests {
    /// x[1,3] · W[3,2] → y[1,2], with W given by the caller.
    static func matMul(_ weight: Onnx_TensorProto? = nil, sparse: Onnx_SparseTensorProto? = nil) -> Onnx_ModelProto {
        var graph = TestModels.graph(
            "sparse", nodes: [TestModels.node("MatMul", ["x", "W"], ["y"], name: "mm")],
            inputs: [TestModels.valueInfo("x", [1, 3])], outputs: [TestModels.valueInfo("y", [1, 2])],
            initializers: weight.map { [$0] } ?? [])
        if let sparse { graph.sparseInitializer = [sparse] }
        return TestModels.model(graph)
    }

    /// A sparse W [3, 2] = [[0, 1.5], [-2, 0], [0, 4]] with the given indices.
    static func sparseWeight(indices: [Int64], indexDims: [Int64], values: [Float] = [1.5, -2, 4]) -> Onnx_SparseTensorProto {
        var sparse = Onnx_SparseTensorProto()
        sparse.dims = [3, 2]
        sparse.values.name = "W"
        sparse.values.dataType = TestModels.float
        sparse.values.dims = [Int64(values.count)]
        sparse.values.floatData = values
        sparse.indices.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        sparse.indices.dims = indexDims
        sparse.indices.int64Data = indices
        return sparse
    }

    @Test("A written sparse_initializer holds the hand-computed linear indices and values; -0.0 counts as zero")
    func encodesByHand() throws {
        let directory = try TemporaryDirectory()
        // W [3, 2] row-major: 0, 1.5, -2, -0.0, 0, 4 → non-zeros at linear 1, 2, 5.
        var weight = TestModels.floatTensor("W", [3, 2], seed: 1)
        weight.rawData = Data([Float(0), 1.5, -2, -0.0, 0, 4].withUnsafeBytes { Array($0) })
        let input = directory.file("dense.onnx")
        try TestModels.write(Self.matMul(weight), to: input)
        let document = try ONNXDocument(url: input)
        let output = directory.file("sparse.onnx")
        let summary = try document.write(
            document.model, to: output, options: WriteOptions(storage: .sparse))

        let written = try TestModels.decode(output)
        #expect(written.graph.initializer.isEmpty)
        let sparse = try #require(written.graph.sparseInitializer.first)
        #expect(sparse.dims == [3, 2])
        #expect(sparse.values.name == "W")
        #expect(sparse.values.dims == [3])
        #expect(sparse.indices.dims == [3])
        #expect(sparse.indices.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue))
        let indices = sparse.indices.rawData.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        let values = sparse.values.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        #expect(indices == [1, 2, 5])
        #expect(values == [1.5, -2, 4])
        // 3 values × 4 bytes + 3 indices × 8 bytes.
        #expect(summary.tensors == [StoredTensor(name: "W", format: "sparse-coo", bytes: 36, nonzeros: 3)])
    }

    @Test("auto stores sparse only where the coordinate list is smaller than dense (density below 1/3 for float32)")
    func autoChoosesBySize() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("mlp.onnx")
        try TestModels.write(TestModels.matMul(), to: input)
        let document = try ONNXDocument(url: input)
        var model = document.model
        // W1 [4, 3]: 12 elements, keep 3 (25 % dense: 3 × 12 = 36 < 48 bytes) → sparse.
        // W2 [2, 3, 6]: 36 elements, keep 18 (50 % dense: 18 × 12 = 216 > 144 bytes) → dense.
        let w1 = try model.parameter(named: "W1").tensor
        try model.setTensor(w1.zeroing(Mask(count: 12, setting: [0, 1, 2, 4, 5, 6, 8, 9, 10])), for: "W1")
        let w2 = try model.parameter(named: "W2").tensor
        try model.setTensor(w2.zeroing(Mask(count: 36, setting: stride(from: 0, to: 36, by: 2))), for: "W2")
        let summary = try document.write(model, to: directory.file("auto.onnx"), options: WriteOptions(storage: .auto))
        let formats = Dictionary(uniqueKeysWithValues: summary.tensors.map { ($0.name, $0.format) })
        #expect(formats == ["W1": "sparse-coo", "W2": "dense", "B": "dense"])
        let written = try TestModels.decode(directory.file("auto.onnx"))
        #expect(written.graph.sparseInitializer.map(\.values.name) == ["W1"])
        #expect(Set(written.graph.initializer.map(\.name)) == ["W2", "B"])
    }

    @Test("Both index forms are read back dense, inspect names the storage, and writing again round-trips")
    func readsBothIndexForms() throws {
        let directory = try TemporaryDirectory()
        for (name, indices, dims) in [
            ("linear", [Int64(1), 2, 5], [Int64(3)]), ("coordinates", [0, 1, 1, 0, 2, 1], [3, 2]),
        ] {
            let url = directory.file("\(name).onnx")
            try TestModels.write(Self.matMul(sparse: Self.sparseWeight(indices: indices, indexDims: dims)), to: url)
            let document = try ONNXDocument(url: url)
            let weight = try document.model.parameter(named: "W")
            #expect(weight.tensor.shape == [3, 2])
            #expect(weight.tensor.floatValues() == [0, 1.5, -2, 0, 0, 4])
            #expect(weight.layout != nil, "the MatMul weight is a pruning candidate like a dense one")
            let form = name == "linear" ? "linear" : "[NNZ, rank]"
            #expect(
                document.storedTensors == [StoredTensor(name: "W", format: "sparse-coo", bytes: 12 + indices.count * 8, nonzeros: 3)])
            let rows = try #require(document.inspectionSections().first { $0.title == "Initializers" }).rows
            let storage = try #require(rows.first { $0.first == "W" })
            #expect(storage.contains("sparse COO (3 non-zeros, \(form) INT64 indices, \(12 + indices.count * 8) bytes)"))
            #expect(storage.contains("50.00%"))

            // Written dense by default, sparse again on request.
            let dense = directory.file("\(name).dense.onnx")
            _ = try document.write(document.model, to: dense, metadata: [:], overwrite: false)
            let decoded = try TestModels.decode(dense)
            #expect(decoded.graph.sparseInitializer.isEmpty)
            let values = decoded.graph.initializer[0].rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(values == [0, 1.5, -2, 0, 0, 4])
        }
    }

    @Test(
        "Hostile sparse initializers are refused with the file and tensor named",
        arguments: [
            ([Int64(1), 2, 6], [Int64(3)], "index 6 of value 2 is outside shape [3, 2]"),
            ([2, 1, 5], [3], "not strictly ascending at value 1"),
            ([1, 1, 5], [3], "not strictly ascending at value 1"),
            ([1, 2], [2], "it has 3 values but 2 indices"),
            ([0, 1, 3, 0, 2, 1], [3, 2], "coordinate 3 on axis 0 of value 1 is outside shape [3, 2]"),
        ])
    func refusesHostileIndices(indices: [Int64], dims: [Int64], reason: String) throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("bad.onnx")
        try TestModels.write(Self.matMul(sparse: Self.sparseWeight(indices: indices, indexDims: dims)), to: url)
        let error = try #require(throws: PruneError.self) { try ONNXDocument(url: url) }
        #expect(error.kind == .corruptFile)
        #expect(error.message.contains(url.path))
        #expect(error.message.contains("sparse initializer 'W'"))
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test("A sparse tensor whose dense size is over the allocation budget is refused before anything is allocated")
    func refusesHugeDenseShape() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("huge.onnx")
        var sparse = Self.sparseWeight(indices: [1, 2, 5], indexDims: [3])
        sparse.dims = [1 << 40, 1 << 20]
        try TestModels.write(Self.matMul(sparse: sparse), to: url)
        let error = try #require(throws: PruneError.self) { try ONNXDocument(url: url) }
        #expect(error.message.contains("sparse initializer 'W'"), "\(error.message)")
    }

    @Test(
        "ONNX Runtime runs the sparse file with the outputs of the dense-masked file; the ONNX checker accepts it",
        .enabled(if: TestPython.enabled, "\(TestPython.skipMessage)"))
    func runtimeAgreesWithDense() throws {
        guard let python = TestPython.python else {
            Issue.record("CI is set but no Python with onnx, onnxruntime and numpy was found")
            return
        }
        let directory = try TemporaryDirectory()
        var pairs: [String] = []
        for (name, model) in [("mlp", try TestModels.mlp()), ("matmul", TestModels.matMul()), ("conv", TestModels.conv())] {
            let input = directory.file("\(name).onnx")
            try TestModels.write(model, to: input)
            let document = try ONNXDocument(url: input)
            var masked = document.model
            for target in try TargetFilter().resolve(in: masked).targets {
                let tensor = try masked.parameter(named: target.name).tensor
                let keep = Set(stride(from: 0, to: tensor.elementCount, by: 4))
                let mask = Mask(count: tensor.elementCount, setting: (0..<tensor.elementCount).filter { !keep.contains($0) })
                try masked.setTensor(tensor.zeroing(mask), for: target.name)
            }
            let dense = directory.file("\(name).dense.onnx")
            let sparse = directory.file("\(name).sparse.onnx")
            _ = try document.write(masked, to: dense, options: WriteOptions(storage: .dense))
            let summary = try document.write(masked, to: sparse, options: WriteOptions(storage: .sparse))
            #expect(summary.tensors.contains { $0.format == "sparse-coo" })
            pairs += [dense.path, sparse.path]
        }
        let compare = try TestPython.run(python, [TestPython.script("ort_compare.py").path] + pairs + ["--tolerance", "0"])
        #expect(compare.status == 0, "\(compare.output)")
        // The structural checker only: onnx's strict shape inference (`full_check`) types a sparse initializer as
        // sparse_tensor_type and rejects it as the dense input of MatMul/Conv/Gemm ("Input tensors of wrong rank
        // (0)"), an onnx limitation (Docs/Compression.md); ONNX Runtime runs the files, as compared above.
        let check = try TestPython.run(
            python,
            ["-c", "import onnx, sys\nfor path in sys.argv[1:]: onnx.checker.check_model(onnx.load(path))"]
                + stride(from: 1, to: pairs.count, by: 2).map { pairs[$0] })
        #expect(check.status == 0, "\(check.output)")
    }
}
