import ONNXProto
import PruneEvaluation
import PruneRuntime
import PruneTestSupport
import Testing

/// The batch size of data split from one file: what was asked for, else the model's fixed batch dimension (as
/// `torch.onnx.export` writes it by default), else the fallback.
struct BatchSizeRuleTests {
    /// y = Relu(x) with x declared `[batch, 3]`, `batch` given by `first`.
    static func graph(first: Onnx_TensorShapeProto.Dimension?) throws -> ONNXGraph {
        var b = GraphBuilder()
        b.input("x")
        if let first {
            var second = Onnx_TensorShapeProto.Dimension()
            second.dimValue = 3
            b.model.graph.input[0].type.tensorType.shape.dim = [first, second]
        }
        b.output("y")
        b.node("Relu", ["x"], ["y"])
        return try b.graph()
    }

    static func dimension(value: Int64? = nil, parameter: String? = nil) -> Onnx_TensorShapeProto.Dimension {
        var dimension = Onnx_TensorShapeProto.Dimension()
        if let value { dimension.dimValue = value }
        if let parameter { dimension.dimParam = parameter }
        return dimension
    }

    @Test func aFixedBatchDimensionIsUsedUnlessABatchSizeIsAsked() throws {
        let fixed = try Self.graph(first: Self.dimension(value: 1))
        #expect(EvaluationData.batchSize(requested: nil, for: fixed) == 1)
        #expect(EvaluationData.batchSize(requested: 8, for: fixed) == 8)
    }

    @Test func aSymbolicOrUndeclaredBatchTakesTheFallback() throws {
        let symbolic = try Self.graph(first: Self.dimension(parameter: "batch"))
        #expect(EvaluationData.batchSize(requested: nil, for: symbolic) == 64)
        #expect(EvaluationData.batchSize(requested: nil, for: symbolic, fallback: 32) == 32)
        let undeclared = try Self.graph(first: nil)
        #expect(EvaluationData.batchSize(requested: nil, for: undeclared) == 64)
        // dim_value -1 (some exporters' "unknown") is not a fixed batch.
        let minusOne = try Self.graph(first: Self.dimension(value: -1))
        #expect(EvaluationData.batchSize(requested: nil, for: minusOne) == 64)
    }
}
