import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneKit
import PruneTestSupport
import Testing

@testable import PruneCalibration
@testable import PruneRuntime

/// A graph exported with a fixed batch dimension bakes it into later shapes, so calibration files holding more
/// samples run in pieces of that size.
struct FixedBatchCalibrationTests {
    /// x declared [1, 2] → Reshape to [1, −1] (as exporters write before a classifier) → Gemm(w [2, 2], transB) → y.
    /// Two samples in one run would reshape to [1, 4] and fail at the Gemm.
    static func graph() throws -> ONNXGraph {
        var b = GraphBuilder()
        b.input("x")
        b.model.graph.input[0].type.tensorType.shape.dim = [1, 2].map {
            var dimension = Onnx_TensorShapeProto.Dimension()
            dimension.dimValue = Int64($0)
            return dimension
        }
        var shape = Onnx_TensorProto()
        shape.name = "shape"
        shape.dims = [2]
        shape.dataType = 7
        shape.int64Data = [1, -1]
        b.model.graph.initializer.append(shape)
        b.initializer("w", shape: [2, 2], floats: [1, 0, 0, 1])
        b.node("Reshape", ["x", "shape"], ["flat"])
        b.node("Gemm", ["flat", "w"], ["y"], int: ["transB": 1])
        b.output("y")
        return try b.graph()
    }

    @Test func samplesAreCutIntoPiecesOfTheFixedBatch() throws {
        let graph = try Self.graph()
        #expect(graph.fixedBatchSize == 1)
        let x = RuntimeTensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        let pieces = Calibration.pieces(of: ["x": x], for: graph)
        #expect(pieces.map { $0["x"]!.shape } == [[1, 2], [1, 2], [1, 2]])
        #expect(pieces.map { $0["x"]!.floatValues() } == [[1, 2], [3, 4], [5, 6]])
    }

    /// Σx² per feature of the Gemm's input over the two samples (1, 2) and (3, 4): [1 + 9, 4 + 16], 2 rows.
    @Test func aFileOfSeveralSamplesCalibratesAFixedBatchGraph() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-fixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "calib.safetensors")
        let samples = try Model(parameters: [Parameter(name: "x", tensor: Tensor(shape: [2, 2], values: [1, 2, 3, 4]))])
        _ = try SafetensorsWriter.write(samples, to: url, overwrite: false)
        let statistics = try Calibration.collect(
            graph: Self.graph(), data: CalibrationData(url: url), kinds: .inputFeatures, threads: 1)
        #expect(statistics.inputs["w"] == InputFeatureStatistics(squareSums: [10, 20], count: 2))
    }
}
