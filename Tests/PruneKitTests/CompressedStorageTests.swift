import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// Sparse storage through the engine: the report's byte columns, and compressed-tensors' own decompressor on our
/// safetensors output (`Scripts/compression/decompress_check.py`).
@Suite struct CompressedStorageTests {
    /// fc1.weight [8, 12], fc2.weight [4, 8] with distinct non-zero values, a bias, and a rank-1 norm weight.
    static func writeModel(in directory: TemporaryDirectory) throws -> URL {
        let model = try Model(
            parameters: [
                Parameter(name: "fc1.weight", tensor: Tensor(shape: [8, 12], values: (1...96).map { Float($0) * 0.01 })),
                Parameter(name: "fc1.bias", tensor: Tensor(shape: [8], values: Array(repeating: 0.5, count: 8))),
                Parameter(name: "fc2.weight", tensor: Tensor(shape: [4, 8], values: (1...32).map { -Float($0) })),
                Parameter(name: "norm.weight", tensor: Tensor(shape: [8], values: Array(repeating: 1, count: 8))),
            ], metadata: ["format": "pt"])
        let url = directory.file("input").appending(path: "model.safetensors")
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try SafetensorsWriter.write(model, to: url, overwrite: true)
        return url
    }

    static func job(_ input: URL, _ output: URL, selector: String, storage: TensorStorage) throws -> PruneJob {
        var job = PruneJob(
            input: input, output: output,
            recipe: Recipe(stages: [
                Recipe.StageEntry(
                    name: "prune", scorer: try ComponentSpec(parsing: "magnitude"),
                    selector: try ComponentSpec(parsing: selector))
            ]), threads: 1)
        job.storage = storage
        return job
    }

    @Test("The report gives each tensor's stored bytes before and after, and the sums")
    func reportCarriesBytes() throws {
        let directory = try TemporaryDirectory()
        let input = try Self.writeModel(in: directory)
        let outputDirectory = directory.file("bitmask")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let report = try PruneEngine().run(
            Self.job(input, outputDirectory.appending(path: "model.safetensors"), selector: "layer:sparsity=0.5", storage: .sparse))
        let fc1 = try #require(report.tensors.first { $0.name == "fc1.weight" })
        #expect(fc1.storageBefore == PruneReport.StoredSize(format: "dense", bytes: 384))
        // 48 values × 4 + bitmask 8 rows × 2 bytes + row offsets 8 × 8 + shape 2 × 8.
        #expect(fc1.storageAfter == PruneReport.StoredSize(format: "sparse-bitmask", bytes: 192 + 16 + 64 + 16, nonzeros: 48))
        let bias = try #require(report.tensors.first { $0.name == "fc1.bias" })
        #expect(bias.storageAfter == PruneReport.StoredSize(format: "dense", bytes: 32))
        #expect(report.totals.bytesBefore == 384 + 32 + 128 + 32)
        // fc2: 16 values × 4 + 4 × 1 + 4 × 8 + 16.
        #expect(report.totals.bytesAfter == 288 + 32 + (64 + 4 + 32 + 16) + 32)
        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        let totals = json?["totals"] as? [String: Any]
        #expect(totals?["bytesAfter"] as? Int == report.totals.bytesAfter)
    }

    @Test("config.json is never written over the input's own")
    func refusesInputConfig() throws {
        let directory = try TemporaryDirectory()
        let input = try Self.writeModel(in: directory)
        let config = input.deletingLastPathComponent().appending(path: "config.json")
        try Data("{\"model_type\": \"bert\"}".utf8).write(to: config)
        let output = input.deletingLastPathComponent().appending(path: "pruned.safetensors")
        let error = try #require(throws: PruneError.self) {
            try PruneEngine().run(Self.job(input, output, selector: "layer:sparsity=0.5", storage: .sparse))
        }
        #expect(error.message.contains("config.json"), "\(error.message)")
        #expect(try String(contentsOf: config, encoding: .utf8) == "{\"model_type\": \"bert\"}")
    }

    @Test(
        "compressed-tensors' own decompressor gives back our weights (sparse-bitmask and sparse-24-bitmask)",
        .enabled(if: TestPython.hasCompressedTensors || TestPython.isCI, "no Python with compressed-tensors and torch"))
    func libraryDecompresses() throws {
        guard let python = TestPython.python, TestPython.hasCompressedTensors else {
            Issue.record("CI is set but no Python with compressed-tensors, torch and safetensors was found")
            return
        }
        let directory = try TemporaryDirectory()
        let input = try Self.writeModel(in: directory)
        // The input's config.json is carried over, with the sparsity config added.
        try Data("{\"model_type\": \"bert\", \"hidden_size\": 8}".utf8).write(
            to: input.deletingLastPathComponent().appending(path: "config.json"))
        for (name, selector, format) in [
            ("bitmask", "layer:sparsity=0.6", "sparse-bitmask"), ("two-four", "nm:n=2,m=4", "sparse-24-bitmask"),
        ] {
            let compressed = directory.file(name)
            try FileManager.default.createDirectory(at: compressed, withIntermediateDirectories: true)
            let report = try PruneEngine().run(
                Self.job(input, compressed.appending(path: "model.safetensors"), selector: selector, storage: .sparse))
            #expect(report.tensors.first { $0.name == "fc1.weight" }?.storageAfter?.format == format)
            let dense = directory.file("\(name).dense.safetensors")
            _ = try PruneEngine().run(Self.job(input, dense, selector: selector, storage: .dense))
            let result = try TestPython.run(
                python, [TestPython.script("compression/decompress_check.py").path, compressed.path, dense.path])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("\"format\": \"\(format)\", \"decompressed\": 2"), "\(result.output)")
            let config = try JSONSerialization.jsonObject(
                with: Data(contentsOf: compressed.appending(path: "config.json"))) as? [String: Any]
            #expect(config?["model_type"] as? String == "bert")
        }
    }
}
