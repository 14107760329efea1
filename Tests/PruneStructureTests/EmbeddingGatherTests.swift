import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure
import PruneTestSupport
import Testing

/// A table read by `Gather` (a transformer's token embedding) whose output joins a group: the table is sliced with
/// the group's units, as every hidden-width group of an encoder needs.
@Suite("Embedding tables")
struct EmbeddingGatherTests {
    /// `y [1, 4, 6] · W1 [6, 8] + Gather(table [10, 8], ids [1, 4]) → · W2 [8, 3]`. Units 4–7 carry nothing to the
    /// output (W2's rows are 0) and have the smallest W1 columns, so removing half the units must keep the output.
    static func model() -> Onnx_ModelProto {
        var builder = GraphBuilder()
        builder.input("ids", elemType: 7)
        builder.input("y")
        builder.output("out")
        let w1 = (0..<48).map { i in Float(sin(Double(i))) * (i % 8 < 4 ? 1 : 0.01) }
        let table = (0..<80).map { i in Float(cos(Double(i))) }
        let w2 = (0..<24).map { i in i / 3 < 4 ? Float(sin(Double(i) + 1)) : 0 }
        builder.initializer("W1", shape: [6, 8], floats: w1)
        builder.initializer("table", shape: [10, 8], floats: table)
        builder.initializer("W2", shape: [8, 3], floats: w2)
        builder.node("MatMul", ["y", "W1"], ["h"], name: "up")
        builder.node("Gather", ["table", "ids"], ["e"], name: "embed", int: ["axis": 0])
        builder.node("Add", ["h", "e"], ["a"], name: "add")
        builder.node("MatMul", ["a", "W2"], ["out"], name: "down")
        for (index, shape) in [[1, 4], [1, 4, 6]].enumerated() {
            builder.model.graph.input[index].type.tensorType.shape.dim = shape.map { extent in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(extent)
                return dim
            }
        }
        return builder.model
    }

    static func run(_ url: URL) throws -> [Float] {
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run([
            "ids": RuntimeTensor(shape: [1, 4], int64s: [3, 0, 9, 3]),
            "y": RuntimeTensor(shape: [1, 4, 6], floats: (0..<24).map { Float($0 % 7) - 3 }),
        ])
        return try #require(outputs["out"]).tensor().floatValues()
    }

    @Test("The gathered table is a member of the group (axis 1, not scored); removal cuts it and keeps the output")
    func tableFollowsTheUnits() throws {
        let harness = try Harness()
        let document = try harness.open(Self.model(), as: "embedding")
        let group = try #require(try StructureAnalysis(model: document.model).group(named: "up"))
        #expect(group.isPrunable, "\(group.exclusion ?? "")")
        #expect(
            Set(group.members.map { "\($0.slice.parameter):\($0.slice.axis):\($0.scored)" })
                == ["W1:1:true", "table:1:false", "W2:0:true"])

        let dense = harness.directory.appendingPathComponent("embedding.onnx")
        let pruned = try HalfRemoval.prune(dense, stem: "embedding", into: harness.directory)
        let result = try ONNXDocument(url: pruned).model
        #expect(try result.parameter(named: "table").tensor.shape == [10, 4])
        #expect(try result.parameter(named: "W1").tensor.shape == [6, 4])
        #expect(close(try Self.run(pruned), try Self.run(dense), tolerance: 1e-5))
    }
}
