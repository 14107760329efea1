import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `quantize` on safetensors through the engine: compressed-tensors' quantised layouts, the report's bytes following
/// the renamed parts, and the library's own `ModelCompressor` loading our files
/// (`Scripts/compression/decompress_quantized_check.py`).
@Suite struct CompressedQuantizationTests {
    /// fc1.weight [8, 16] and fc2.weight [4, 16] on a grid the schemes store exactly: every value k·2⁻⁷ (int8) or
    /// k·2⁻³ (int4, |k| ≤ 7), each row (each group of 8) led by ±max, so every scale is a power of two and
    /// dequantising gives the input back bit for bit. A bias and a norm weight stay dense.
    static func writeModel(in directory: TemporaryDirectory, bits: Int) throws -> URL {
        let top = bits == 8 ? 127 : 7
        let step: Float = bits == 8 ? 1.0 / 128 : 1.0 / 8
        func grid(rows: Int, columns: Int, seed: Int) -> [Float] {
            (0..<rows * columns).map { index in
                let (row, column) = index.quotientAndRemainder(dividingBy: columns)
                if column % 8 == 0 { return Float(row % 2 == 0 ? top : -top) * step }
                return Float((index * 37 + seed) % (2 * top - 1) - (top - 1)) * step
            }
        }
        let model = try Model(
            parameters: [
                Parameter(name: "fc1.weight", tensor: Tensor(shape: [8, 16], values: grid(rows: 8, columns: 16, seed: 5))),
                Parameter(name: "fc1.bias", tensor: Tensor(shape: [8], values: Array(repeating: 0.5, count: 8))),
                Parameter(name: "fc2.weight", tensor: Tensor(shape: [4, 16], values: grid(rows: 4, columns: 16, seed: 11))),
                Parameter(name: "norm.weight", tensor: Tensor(shape: [16], values: Array(repeating: 1, count: 16))),
            ], metadata: ["format": "pt"])
        let url = directory.file("input-\(bits)").appending(path: "model.safetensors")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try SafetensorsWriter.write(model, to: url, overwrite: true)
        try Data("{\"model_type\": \"bert\", \"hidden_size\": 16}".utf8).write(
            to: url.deletingLastPathComponent().appending(path: "config.json"))
        return url
    }

    static func job(_ input: URL, _ output: URL, selector: String, rewriter: String?, storage: TensorStorage) throws
        -> PruneJob
    {
        var job = PruneJob(
            input: input, output: output,
            recipe: Recipe(stages: [
                Recipe.StageEntry(
                    name: "stage", scorer: try ComponentSpec(parsing: "magnitude"),
                    selector: try ComponentSpec(parsing: selector),
                    rewriter: try ComponentSpec(parsing: rewriter ?? "mask"))
            ]), threads: 1)
        job.storage = storage
        return job
    }

    static func outputDirectory(_ directory: TemporaryDirectory, _ name: String) throws -> URL {
        let url = directory.file(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.appending(path: "model.safetensors")
    }

    @Test("The report follows a quantised weight to its parts: stored int bytes against the f32 bytes")
    func reportFollowsRenaming() throws {
        let directory = try TemporaryDirectory()
        let input = try Self.writeModel(in: directory, bits: 4)
        let report = try PruneEngine().run(
            Self.job(
                input, try Self.outputDirectory(directory, "int4"), selector: "layer:sparsity=0",
                rewriter: "quantize:bits=4,group=8", storage: .dense))
        let fc1 = try #require(report.tensors.first { $0.name == "fc1.weight" })
        #expect(fc1.changed)
        #expect(fc1.dtypeAfter == "int4")
        #expect(fc1.storageBefore == PruneReport.StoredSize(format: "dense", bytes: 512))
        // 8 rows × 2 words × 4 bytes + scales 8 × 2 × 4 + shape 2 × 8.
        #expect(
            fc1.storageAfter
                == PruneReport.StoredSize(format: "pack-quantized", bytes: 64 + 64 + 16, bits: 4, groupSize: 8))
        // Every tensor's data: fc1 144, fc1.bias 32, fc2 (4 × 2 × 4 + 4 × 2 × 4 + 16 = 80), norm 64.
        #expect(report.totals.bytesAfter == 144 + 32 + 80 + 64)
        #expect(report.totals.bytesBefore == 512 + 32 + 256 + 64)
        let config = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.file("int4").appending(path: "config.json"))) as? [String: Any]
        #expect(config?["model_type"] as? String == "bert")
        let quantization = config?["quantization_config"] as? [String: Any]
        #expect(quantization?["format"] as? String == "pack-quantized")
        #expect(quantization?["quant_method"] as? String == "compressed-tensors")
        let group = (quantization?["config_groups"] as? [String: Any])?["group_0"] as? [String: Any]
        #expect(group?["targets"] as? [String] == ["fc1", "fc2"])
        let weights = group?["weights"] as? [String: Any]
        #expect(weights?["num_bits"] as? Int == 4)
        #expect(weights?["group_size"] as? Int == 8)
        #expect(weights?["strategy"] as? String == "group")
        #expect(weights?["symmetric"] as? Bool == true)
    }

    @Test("ONNX: a weight behind DequantizeLinear is reported under its old name with its int8 bytes")
    func onnxReportFollowsRenaming() throws {
        let directory = try TemporaryDirectory()
        let input = Repository.root.appending(path: "Examples/digits-cnn/model.onnx")
        let report = try PruneEngine().run(
            Self.job(
                input, directory.file("int8.onnx"), selector: "layer:sparsity=0", rewriter: "quantize", storage: .dense))
        let conv1 = try #require(report.tensors.first { $0.name == "conv1.weight" })
        #expect(conv1.changed)
        #expect(conv1.dtypeAfter == "int8")
        #expect(conv1.shapeAfter == [16, 1, 3, 3])
        #expect(conv1.storageBefore == PruneReport.StoredSize(format: "dense", bytes: 144 * 4))
        // 144 int8 values + 16 float scales.
        #expect(
            conv1.storageAfter
                == PruneReport.StoredSize(format: "dequantize-linear", bytes: 144 + 16 * 4, bits: 8, groupSize: 0))
        let fc1 = try #require(report.tensors.first { $0.name == "fc1.weight" })
        #expect(fc1.storageAfter?.bytes == 64 * 512 + 64 * 4)
        let saved = (144 + 4_608 + 32_768 + 640) * 3 - (16 + 32 + 64 + 10) * 4
        #expect(try #require(report.totals.bytesBefore) - (try #require(report.totals.bytesAfter)) == saved)
    }

    @Test(
        "compressed-tensors' ModelCompressor loads our int-quantized and pack-quantized files, alone and with sparsity",
        .enabled(if: TestPython.hasCompressedTensors || TestPython.isCI, "no Python with compressed-tensors and torch"))
    func libraryDecompresses() throws {
        guard let python = TestPython.python, TestPython.hasCompressedTensors else {
            Issue.record("CI is set but no Python with compressed-tensors, torch and safetensors was found")
            return
        }
        let directory = try TemporaryDirectory()
        let cases: [(name: String, bits: Int, selector: String, rewriter: String, storage: TensorStorage, sparse: String?)] = [
            ("int8", 8, "layer:sparsity=0", "quantize", .dense, nil),
            ("int4-g8", 4, "layer:sparsity=0", "quantize:bits=4,group=8", .dense, nil),
            ("int8-g8", 8, "layer:sparsity=0", "quantize:group=8", .dense, nil),
            ("int8-bitmask", 8, "layer:sparsity=0.5", "quantize", .sparse, "sparse-bitmask"),
            ("int8-24", 8, "nm:n=2,m=4", "quantize", .sparse, "sparse-24-bitmask"),
        ]
        for item in cases {
            let input = try Self.writeModel(in: directory, bits: item.bits)
            let output = try Self.outputDirectory(directory, item.name)
            _ = try PruneEngine().run(
                Self.job(input, output, selector: item.selector, rewriter: item.rewriter, storage: item.storage))
            // The expected weights: the same selection without quantisation (the grid makes quantisation exact).
            let expected = directory.file("\(item.name).expected.safetensors")
            _ = try PruneEngine().run(Self.job(input, expected, selector: item.selector, rewriter: nil, storage: .dense))
            let result = try TestPython.run(
                python,
                [
                    TestPython.script("compression/decompress_quantized_check.py").path,
                    output.deletingLastPathComponent().path, expected.path, "--steps", "0",
                ])
            #expect(result.status == 0, "\(item.name): \(result.output)")
            let format = item.bits == 8 ? "int-quantized" : "pack-quantized"
            let sparsity = item.sparse.map { "\"\($0)\"" } ?? "null"
            #expect(
                result.output.contains("\"format\": \"\(format)\", \"sparsity\": \(sparsity), \"quantized\": 2"),
                "\(item.name): \(result.output)")
        }

        // Off the grid: every weight within half a quantisation step of the input (0.5 + the float16 slack the
        // library's sparse path adds).
        let input = directory.file("lossy").appending(path: "model.safetensors")
        try FileManager.default.createDirectory(at: input.deletingLastPathComponent(), withIntermediateDirectories: true)
        let values = (0..<(8 * 16)).map { Float(sin(Double($0) * 0.7)) * 0.3 }
        _ = try SafetensorsWriter.write(
            try Model(parameters: [Parameter(name: "fc1.weight", tensor: Tensor(shape: [8, 16], values: values))]),
            to: input, overwrite: true)
        for (name, rewriter) in [("lossy-int8", "quantize"), ("lossy-int4", "quantize:bits=4,group=8")] {
            let output = try Self.outputDirectory(directory, name)
            _ = try PruneEngine().run(
                Self.job(input, output, selector: "layer:sparsity=0", rewriter: rewriter, storage: .dense))
            let result = try TestPython.run(
                python,
                [
                    TestPython.script("compression/decompress_quantized_check.py").path,
                    output.deletingLastPathComponent().path, input.path, "--steps", "0.5",
                ])
            #expect(result.status == 0, "\(name): \(result.output)")
        }
    }
}
