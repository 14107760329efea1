import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// The report follows an ONNX int4 weight whose packed values live inside the graph message, not in a parameter.
@Suite struct QuantizedReportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

    @Test("int4 behind DequantizeLinear: 128 values in 64 packed bytes plus 8 float scales, against 512 float bytes")
    func int4BytesInsideTheGraph() throws {
        let directory = try TemporaryDirectory()
        let job = PruneJob(
            input: Self.fixtures.appending(path: "gptq_matmul.onnx"), output: directory.file("int4.onnx"),
            recipe: Recipe(stages: [
                Recipe.StageEntry(
                    name: "quantize", scorer: try ComponentSpec(parsing: "magnitude"),
                    selector: try ComponentSpec(parsing: "layer:sparsity=0"),
                    rewriter: try ComponentSpec(parsing: "quantize:bits=4"))
            ]), threads: 1)
        let report = try PruneEngine().run(job)
        let w = try #require(report.tensors.first { $0.name == "w" })
        #expect(w.dtypeAfter == "int4")
        #expect(w.storageBefore == PruneReport.StoredSize(format: "dense", bytes: 16 * 8 * 4))
        // w is MatMul's [in 16, out 8]: one scale per output channel.
        #expect(w.storageAfter == PruneReport.StoredSize(format: "dequantize-linear", bytes: 64 + 8 * 4, bits: 4, groupSize: 0))
        #expect(report.totals.bytesAfter == 64 + 8 * 4)
    }
}
