import Foundation
import PruneTestSupport
import ONNXProto
import PruneKit
import Testing

/// Re-fits aimed at a residual sum: a layer whose output is added to a stream makes up for the stream's error.
struct ResidualSumTests {
    /// x → fc1 (identity, 2 → 2) → Relu → fc2 (s = x0 + 2·x1, 2 → 1); fc3 reads Concat(x, s) (3 → 1) and
    /// y = fc3 + s. Removing fc1's unit 1 leaves fc2 only x0 and a bias, so the stream s carries an error
    /// e = s_dense − s_pruned that is linear in x; fc3 sees x, so aimed at the sum it can cancel e exactly, while
    /// aimed at its own dense output it reproduces that exactly and passes e on to y.
    static func residualGraph() -> Onnx_ModelProto {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2])
        builder.output("y", [nil, 1])
        builder.weight("fc1.weight", [2, 2], values: [1, 0, 0, 1])
        builder.weight("fc1.bias", [2], values: [0, 0])
        builder.node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name: "fc1", ints: ["transB": 1])
        builder.node("Relu", ["h"], ["r"], name: "relu")
        builder.weight("fc2.weight", [1, 2], values: [1, 2])
        builder.weight("fc2.bias", [1], values: [0])
        builder.node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["s"], name: "fc2", ints: ["transB": 1])
        builder.node("Concat", ["x", "s"], ["xs"], name: "concat", ints: ["axis": 1])
        builder.weight("fc3.weight", [1, 3], values: [0.5, -1, 2])
        builder.weight("fc3.bias", [1], values: [0.1])
        builder.node("Gemm", ["xs", "fc3.weight", "fc3.bias"], ["t"], name: "fc3", ints: ["transB": 1])
        builder.node("Add", ["t", "s"], ["y"], name: "residual")
        return builder.model
    }

    func reconstructed(residualSums: Bool) throws -> [LayerReconstruction] {
        let work = try Scratch()
        let model = try work.open(Self.residualGraph(), as: "residual").model
        let selection = try removing([1], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: ReconstructTests.mlpBatches)
        // x0 + 1 and s_pruned (affine in x0) are collinear: a tiny damping makes the normal equations definite.
        return try ReconstructRewriter(lambda: 1e-9, heldOutFraction: 0, residualSums: residualSums)
            .reconstruct(model, applying: selection, in: context).layers
    }

    @Test func aLayerFeedingAResidualSumCancelsTheStreamsError() throws {
        let layers = try reconstructed(residualSums: true)
        // fc2 feeds both Concat and the Add, so it is fitted to its own output; fc3 to the sum y.
        let fc2 = try #require(layers.first { $0.layer == "fc2" })
        #expect(fc2.note == nil)
        let fc3 = try #require(layers.first { $0.layer == "fc3" })
        #expect(fc3.note == "fitted to the residual sum 'y'")
        #expect(try #require(fc3.relativeErrorAfter) < 1e-8)
        let end = try #require(layers.last)
        #expect(end.action == .modelOutput && end.layer == "y")
        #expect(try #require(end.relativeErrorAfter) < 1e-8, "y should equal the dense model's output")
    }

    @Test func aimedAtItsOwnOutputTheLayerPassesTheStreamsErrorOn() throws {
        let layers = try reconstructed(residualSums: false)
        let fc2 = try #require(layers.first { $0.layer == "fc2" })
        let fc3 = try #require(layers.first { $0.layer == "fc3" })
        #expect(fc3.note == nil)
        #expect(try #require(fc3.relativeErrorAfter) < 1e-8, "fc3's own output is reproduced exactly")
        // fc2's unrecoverable error e reaches y unchanged: ‖e‖² over the seven rows is fc2's residual.
        let lostInStream = try #require(fc2.relativeErrorAfter)
        #expect(lostInStream > 1e-3)
        let end = try #require(layers.last)
        #expect(try #require(end.relativeErrorAfter) > 1e-4)
    }
}
