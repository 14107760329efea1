import ONNXProto
import PruneTestSupport
import Testing

@testable import PruneFormats

/// Reshapes whose target is computed from `Shape` while the sequence length is symbolic: the `-1` entry is
/// resolved when the target's unknown entries are provably the input's own extents (GPT-2's
/// `k.view(b, s, -1, d)` with `b, s` read from the Q part of one Split), and stays unknown otherwise.
@Suite("Reshape targets read from Shape with a symbolic sequence length")
struct SymbolicReshapeTests {
    /// x `[batch, sequence, 24]` split into q, k `[1, ?, 12]`; `k` is reshaped by a target built from `Shape(q)`
    /// (`[b, s, -1, 4]`), `x` by `[-1, Slice(Shape(x), -1:)]` (a Conv1D's rows), and `k` once more by a target whose
    /// sequence entry comes from another input `y` `[batch, other, 12]`.
    static func inference() throws -> ONNXShapeInference {
        var builder = GraphBuilder(opset: 17)
        for (name, dims) in [("x", ["batch", "sequence", "24"]), ("y", ["batch", "other", "12"])] {
            builder.input(name)
            let index = builder.model.graph.input.count - 1
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { text in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let value = Int64(text) { dim.dimValue = value } else { dim.dimParam = text }
                return dim
            }
            builder.model.graph.input[index].type.tensorType.shape = shape
        }
        let constants: [String: [Int64]] = [
            "sizes": [12, 12], "zero": [0], "one": [1], "minus_one": [-1], "four": [4], "last": [-1],
            "end": [Int64.max],
        ]
        builder.node("Split", ["x", "sizes"], ["q", "k"], int: ["axis": 2])
        for (source, prefix) in [("q", "q"), ("y", "y")] {
            builder.node("Shape", [source], ["\(prefix)_shape"])
            builder.node("Gather", ["\(prefix)_shape", "zero"], ["\(prefix)_b"], int: ["axis": 0])
            builder.node("Gather", ["\(prefix)_shape", "one"], ["\(prefix)_s"], int: ["axis": 0])
            builder.node("Concat", ["\(prefix)_b", "\(prefix)_s", "minus_one", "four"], ["\(prefix)_target"], int: ["axis": 0])
        }
        builder.node("Reshape", ["k", "q_target"], ["heads"])
        builder.node("Reshape", ["k", "y_target"], ["unrelated"])
        builder.node("Shape", ["x"], ["x_shape"])
        builder.node("Slice", ["x_shape", "last", "end", "zero"], ["features"])
        builder.node("Concat", ["minus_one", "features"], ["rows_target"], int: ["axis": 0])
        builder.node("Reshape", ["x", "rows_target"], ["rows"])
        return ONNXShapeInference(
            graph: builder.model.graph, initializerDims: constants.mapValues { [Int64($0.count)] },
            constants: constants)
    }

    @Test("The head count of k.view(b, s, -1, d) is found; an unrelated sequence length leaves it unknown")
    func heads() throws {
        let inference = try Self.inference()
        #expect(inference.shapes["q"] == [1, nil, 12])
        // The sequence entry is q's axis 1, which is k's axis 1 (one Split along the features): -1 = 12 / 4.
        #expect(inference.shapes["heads"] == [1, nil, 3, 4])
        #expect(inference.dimensionSources["q_target"] == [
            DimensionSource(value: "x", axis: 0), DimensionSource(value: "x", axis: 1), nil, nil,
        ])
        // y's sequence is another symbol: nothing proves it equals k's, so the -1 stays unknown.
        #expect(inference.shapes["unrelated"] == [1, nil, nil, 4])
    }

    @Test("A Slice of a partly known Shape folds: the Conv1D row reshape keeps its feature extent")
    func rows() throws {
        let inference = try Self.inference()
        #expect(inference.values["features"] == [24])
        #expect(inference.shapes["rows"] == [nil, 24])
    }
}
