import Foundation
import ONNXProto
import PruneCore
import PruneRuntime
import Testing

/// The interpreter densifies `sparse_initializer`s when it decodes a graph (what `prune eval` and calibration run).
@Suite struct SparseInitializerRuntimeTests {
    /// y = x · W with W [3, 2] = [[0, 1.5], [-2, 0], [0, 4]] stored as a sparse initializer with `indices`.
    static func model(indices: [Int64], dims: [Int64]) -> Onnx_ModelProto {
        var sparse = Onnx_SparseTensorProto()
        sparse.dims = [3, 2]
        sparse.values.name = "W"
        sparse.values.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        sparse.values.dims = [3]
        sparse.values.floatData = [1.5, -2, 4]
        sparse.indices.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        sparse.indices.dims = dims
        sparse.indices.int64Data = indices
        var node = Onnx_NodeProto()
        node.opType = "MatMul"
        node.input = ["x", "W"]
        node.output = ["y"]
        func info(_ name: String, _ shape: [Int64]) -> Onnx_ValueInfoProto {
            var value = Onnx_ValueInfoProto()
            value.name = name
            value.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            value.type.tensorType.shape.dim = shape.map { extent in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = extent
                return dim
            }
            return value
        }
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.graph.node = [node]
        model.graph.input = [info("x", [1, 3])]
        model.graph.output = [info("y", [1, 2])]
        model.graph.sparseInitializer = [sparse]
        return model
    }

    @Test("Both index forms run: x = [1, 2, 3] gives [1·0 + 2·(−2) + 3·0, 1·1.5 + 2·0 + 3·4] = [−4, 13.5]")
    func runs() throws {
        for (indices, dims) in [([Int64(1), 2, 5], [Int64(3)]), ([0, 1, 1, 0, 2, 1], [3, 2])] {
            let graph = try ONNXGraph(model: Self.model(indices: indices, dims: dims))
            #expect(graph.initializer(named: "W")?.floatValues() == [0, 1.5, -2, 0, 0, 4])
            let interpreter = try Interpreter(graph: graph)
            let y = try #require(try interpreter.run(["x": RuntimeTensor(shape: [1, 3], floats: [1, 2, 3])])["y"])
            #expect(y.floatValues() == [-4, 13.5])
        }
    }

    @Test("Out-of-range and unordered indices are refused, naming the tensor")
    func refusesHostileIndices() throws {
        for (indices, reason) in [([Int64(1), 2, 6], "outside shape [3, 2]"), ([2, 1, 5], "not strictly ascending")] {
            let error = try #require(throws: PruneError.self) {
                try ONNXGraph(model: Self.model(indices: indices, dims: [3]))
            }
            #expect(error.message.contains("sparse initializer 'W'"))
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }
}
