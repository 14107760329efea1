import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneKit
import PruneTestSupport
import Testing

@testable import PruneCalibration
@testable import PruneRuntime

/// Positions a Hugging Face `attention_mask` marks 0 (padding) stay out of the calibration statistics.
struct PaddingStatisticsTests {
    /// x [b, s, 2] → MatMul(w = identity) → h; y = h · attention_mask (int64 [b, s], cast and unsqueezed).
    static func graph(maskName: String) throws -> ONNXGraph {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, nil, 2])
        builder.input(maskName, [nil, nil])
        builder.graph.input[1].type.tensorType.elemType = 7
        builder.output("y", [nil, nil, 2])
        builder.weight("w", [2, 2], values: [1, 0, 0, 1])
        builder.node("MatMul", ["x", "w"], ["h"], name: "fc")
        builder.node("Cast", [maskName], ["m"], name: "cast", ints: ["to": 1])
        builder.int64s("last", [-1])
        builder.node("Unsqueeze", ["m", "last"], ["m3"], name: "unsqueeze")
        builder.node("Mul", ["h", "m3"], ["y"], name: "mask")
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-padding-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "masked.onnx")
        try Data(builder.model.serializedBytes() as [UInt8]).write(to: file)
        return try ONNXGraph.of(ONNXDocument(url: file).model)
    }

    /// One sequence of 3 positions, (1, 2), (3, 4) and a padded (100, 100).
    func statistics(maskName: String) throws -> CalibrationStatistics {
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-padding-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "calib.safetensors")
        let mask = try Tensor(dtype: .i64, shape: [1, 3], bytes: [Int64]([1, 1, 0]).withUnsafeBytes { Array($0) })
        let samples = try Model(parameters: [
            Parameter(name: "x", tensor: Tensor(shape: [1, 3, 2], values: [1, 2, 3, 4, 100, 100])),
            Parameter(name: maskName, tensor: mask),
        ])
        _ = try SafetensorsWriter.write(samples, to: url, overwrite: false)
        return try Calibration.collect(
            graph: Self.graph(maskName: maskName), data: CalibrationData(url: url), kinds: .inputFeatures, threads: 1)
    }

    /// Σx² per feature over the two real positions: [1 + 9, 4 + 16], 2 rows.
    @Test func paddedPositionsAreLeftOutOfTheSums() throws {
        let statistics = try statistics(maskName: "attention_mask")
        #expect(statistics.inputs["w"] == InputFeatureStatistics(squareSums: [10, 20], count: 2))
    }

    /// An input of another name is not read as a padding mask: all three positions count.
    @Test func onlyAnInputNamedAttentionMaskMarksPadding() throws {
        let statistics = try statistics(maskName: "token_type_ids")
        #expect(statistics.inputs["w"] == InputFeatureStatistics(squareSums: [10_010, 10_020], count: 3))
    }
}
