import ONNXProto
import PruneTestSupport
import Testing

@testable import PruneFormats

/// MACs of a graph with a symbolic sequence length, counted at the extents of one data batch.
@Suite("MACs at the data's sequence length")
struct SequenceMACsTests {
    /// x `[batch, sequence, 8]` → MatMul W `[8, 4]` → h `[b, s, 4]`; scores = h · Transpose(h) `[b, s, s]`, the
    /// shape of attention's `Q·Kᵀ`; then a Reshape to `Shape(h)` (a computed target).
    static let graph: Onnx_GraphProto = {
        var builder = GraphBuilder(opset: 17)
        builder.input("x")
        var shape = Onnx_TensorShapeProto()
        shape.dim = ["batch", "sequence", "8"].map { text in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let value = Int64(text) { dim.dimValue = value } else { dim.dimParam = text }
            return dim
        }
        builder.model.graph.input[0].type.tensorType.shape = shape
        builder.node("MatMul", ["x", "w"], ["h"])
        builder.node("Transpose", ["h"], ["ht"], ints: ["perm": [0, 2, 1]])
        builder.node("MatMul", ["h", "ht"], ["scores"])
        builder.node("Shape", ["h"], ["h_shape"])
        builder.node("Reshape", ["h", "h_shape"], ["same"])
        builder.output("scores")
        return builder.model.graph
    }()

    func inference(_ shapes: [String: [Int]]) -> ONNXShapeInference {
        ONNXShapeInference(graph: Self.graph, initializerDims: ["w": [8, 4]], constants: [:], inputShapes: shapes)
    }

    @Test func withoutDataTheSequenceIsUnknownAndSoAreTheMACs() {
        let inference = inference([:])
        #expect(inference.macs.isEmpty)
        #expect(inference.shapes["scores"] == [1, nil, nil])
    }

    @Test func aBatchOfDataBindsTheSequenceLength() {
        // A batch of 3 sequences of 5: counted per sample (batch 1). x·W: 5·8·4 = 160; h·hᵀ: 5·5·4 = 100.
        let inference = inference(["x": [3, 5, 8]])
        #expect(inference.shapes["h"] == [1, 5, 4])
        #expect(inference.shapes["scores"] == [1, 5, 5])
        #expect(inference.shapes["same"] == [1, 5, 4])
        #expect(inference.macs.values.sorted() == [100, 160])
    }

    @Test func shapesOfAnotherRankOrInputAreIgnored() {
        #expect(inference(["x": [3, 5]]).macs.isEmpty)
        #expect(inference(["y": [3, 5, 8]]).macs.isEmpty)
    }
}
