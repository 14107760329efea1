import Foundation
import PruneCore
import PruneEvaluation
import PruneFormats
import PruneRuntime
import PruneTestSupport
import Testing

/// Models as recurrent exports ship them: a state input whose dimension 0 is not the batch, a scalar input, and a
/// sequence-first output.
struct StateInputTests {
    /// y = Concat(x · scale, state) on axis 0: x [N, 3], state [2, 3], scale a scalar; y [N + 2, 3].
    static func model() throws -> ONNXGraph {
        var b = GraphBuilder()
        b.input("x")
        b.input("state")
        b.input("scale")
        b.output("y")
        b.node("Mul", ["x", "scale"], ["scaled"])
        b.node("Concat", ["scaled", "state"], ["y"], int: ["axis": 0])
        return try b.graph()
    }

    @Test func stateAndScalarInputsAreFedWholeAndASequenceFirstOutputIsComparedPerBatch() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appending(path: "data.safetensors")
        let x = (0..<12).map { Float($0) }
        let model = try Model(parameters: [
            Parameter(name: "x", tensor: Tensor(shape: [4, 3], values: x)),
            Parameter(name: "state", tensor: Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])),
            Parameter(name: "scale", tensor: Tensor(shape: [], values: [2])),
        ])
        _ = try SafetensorsWriter.write(model, to: url, overwrite: false)
        let graph = try Self.model()
        let data = try EvaluationData(url: url, batchSize: 2, inputNames: graph.inputNames)
        #expect(data.sampleCount == 4 && data.batchCount == 2)
        let second = try data.batch(1, inputNames: graph.inputNames)
        #expect(second.inputs["x"]?.shape == [2, 3])
        #expect(second.inputs["x"]?.floatValues() == Array(x[6...]))
        #expect(second.inputs["state"]?.shape == [2, 3] && second.inputs["scale"]?.shape == [])

        let evaluator = Evaluator(
            model: try Interpreter(graph: graph), name: "m", reference: try Interpreter(graph: Self.model()),
            referenceName: "r")
        let result = try evaluator.evaluate(data)
        let agreement = try #require(result.agreement)
        #expect(agreement.comparison == OutputComparison.valuesPerBatch)
        #expect(agreement.rows == 2 && agreement.top1 == nil && agreement.maxAbsDifference == 0)
        #expect(abs(agreement.meanCosine - 1) < 1e-12)
    }
}
