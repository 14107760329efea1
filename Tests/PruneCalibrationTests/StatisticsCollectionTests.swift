import Foundation
import PruneKit
import PruneTestSupport
import Testing

@testable import PruneRuntime

/// Hand-computed statistics on tiny graphs built in memory.
struct StatisticsCollectionTests {
    private func collect(_ builder: GraphBuilder, _ inputs: [String: RuntimeTensor], kinds: StatisticKinds = .all)
        throws -> CalibrationStatistics
    {
        let graph = try builder.graph()
        let collector = try StatisticsCollector(graph: graph, kinds: kinds)
        _ = try Interpreter(graph: graph, options: .init(threads: 1)).run(inputs, observer: collector)
        collector.finishBatch()
        return collector.statistics
    }

    @Test func gemmFollowedByReluGivesFeatureSquaresAndUnitActivity() throws {
        var b = GraphBuilder()
        b.input("x")
        b.initializer("w", shape: [2, 3], floats: [1, 0, 0, 0, 1, 1])
        b.node("Gemm", ["x", "w"], ["y"], int: ["transB": 1])
        b.node("Relu", ["y"], ["z"])
        b.output("z")
        let x = RuntimeTensor(shape: [2, 3], floats: [1, -2, 0, 3, 0, -1])
        let statistics = try collect(b, ["x": x])
        // Σx² per feature: [1+9, 4+0, 0+1] over 2 rows; Σx (input means are in `.all`): [1+3, -2+0, 0-1].
        #expect(statistics.inputs["w"] == InputFeatureStatistics(squareSums: [10, 4, 1], count: 2, sums: [4, -2, -1]))
        // y = [[1, -2], [3, -1]], after Relu [[1, 0], [3, 0]].
        #expect(
            statistics.outputs["w"]
                == OutputUnitStatistics(absoluteSums: [4, 0], zeroCounts: [0, 2], count: 2, observedOp: "Relu"))
        #expect(statistics.outputs["w"]!.density(0) == 1)
        #expect(statistics.outputs["w"]!.density(1) == 0)
        #expect(statistics.batches == 1)
    }

    @Test func convPoolsSpatialPositionsAndLooksThroughABiasToTheRelu() throws {
        var b = GraphBuilder()
        b.input("x")
        b.initializer("w", shape: [1, 2, 1, 1], floats: [1, -1])
        b.initializer("b", shape: [1, 1, 1, 1], floats: [-2])
        b.node("Conv", ["x", "w"], ["c"])
        b.node("Add", ["c", "b"], ["d"])
        b.node("Relu", ["d"], ["r"])
        b.output("r")
        let x = RuntimeTensor(shape: [1, 2, 2, 2], floats: [1, 2, 3, 4, 0, 0, 1, -1])
        let statistics = try collect(b, ["x": x])
        // Channel 0 is [1, 2, 3, 4] (Σx² 30, Σx 10), channel 1 [0, 0, 1, -1] (Σx² 2, Σx 0).
        #expect(statistics.inputs["w"] == InputFeatureStatistics(squareSums: [30, 2], count: 4, sums: [10, 0]))
        // conv = [1, 2, 2, 5]; + (-2) = [-1, 0, 0, 3]; Relu = [0, 0, 0, 3].
        #expect(
            statistics.outputs["w"]
                == OutputUnitStatistics(absoluteSums: [3], zeroCounts: [3], count: 4, observedOp: "Relu"))
    }

    @Test func matMulFeaturesRunAlongTheLastAxisAndOnlyAskedKindsAreCollected() throws {
        var b = GraphBuilder()
        b.input("x")
        b.initializer("w", shape: [3, 2], floats: [1, 0, 0, 1, 1, 1])
        b.node("MatMul", ["x", "w"], ["y"])
        b.output("y")
        let x = RuntimeTensor(shape: [2, 2, 3], floats: [1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 1, 1])
        let statistics = try collect(b, ["x": x], kinds: .inputFeatures)
        #expect(statistics.inputs["w"] == InputFeatureStatistics(squareSums: [2, 5, 10], count: 4))
        #expect(statistics.outputs.isEmpty)
        // Without a following activation the layer's own output is observed.
        let outputs = try collect(b, ["x": x], kinds: .outputUnits).outputs["w"]
        #expect(outputs?.observedOp == "MatMul")
        // y rows: [1,0], [0,2], [3,3], [2,2]
        #expect(outputs?.absoluteSums == [6, 7])
        #expect(outputs?.zeroCounts == [1, 1])
    }

    @Test func statisticsSurviveASaveAndLoad() throws {
        let statistics = CalibrationStatistics(
            inputs: ["onnx::MatMul_1": InputFeatureStatistics(squareSums: [1.5, 2.25], count: 7, groups: 1)],
            outputs: ["onnx::MatMul_1": OutputUnitStatistics(absoluteSums: [3], zeroCounts: [2], count: 7, observedOp: "Relu")],
            batches: 3)
        let url = FileManager.default.temporaryDirectory.appending(path: "stats-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try StatisticsFile.save(statistics, to: url, overwrite: false)
        #expect(try StatisticsFile.load(url) == statistics)
    }

    @Test func aModelFileIsNotAStatisticsFile() throws {
        let url = Examples.cnn.appending(path: "calib.safetensors")
        let error = #expect(throws: PruneError.self) { try StatisticsFile.load(url) }
        #expect(error?.message.contains("is not a PruneKit statistics file") == true)
    }
}

/// The bundled examples.
enum Examples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Examples")
    static let cnn = root.appending(path: "digits-cnn")
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")
}
