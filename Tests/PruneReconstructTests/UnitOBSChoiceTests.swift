import Foundation
import PruneTestSupport
import ONNXProto
import PruneKit
import Testing

/// `reconstruct:units=obs`: the selection's count kept, the units re-chosen by greedy OBS on the consumer's input.
struct UnitOBSChoiceTests {
    /// x (3 features, positive) → fc1 (4 neurons: x0, x1, x2 and x0 + x1) → Relu → fc2 (2 outputs). Neurons 0, 1
    /// and 3 are linearly dependent, so any one of them can go at no cost once fc2 is updated; neuron 2 (x2) cannot:
    /// on the eight samples below, the least-squares fit of y from (x0, x1, x0 + x1, 1) leaves 0.011736 of ‖y‖²
    /// (NumPy's `lstsq`).
    static func mlp() -> Onnx_ModelProto {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 3])
        builder.output("y", [nil, 2])
        builder.weight("fc1.weight", [4, 3], values: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0])
        builder.weight("fc1.bias", [4], values: [0, 0, 0, 0])
        builder.node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h"], name: "fc1", ints: ["transB": 1])
        builder.node("Relu", ["h"], ["r"], name: "relu")
        builder.weight("fc2.weight", [2, 4], values: [1, 2, 3, 3, -1, 0.5, -2, 1])
        builder.weight("fc2.bias", [2], values: [0.5, -0.5])
        builder.node("Gemm", ["r", "fc2.weight", "fc2.bias"], ["y"], name: "fc2", ints: ["transB": 1])
        return builder.model
    }

    static let batches = InMemoryBatches(batches: [
        ["x": Tensor(shape: [4, 3], values: [0.1, 0.7, 0.3, 0.9, 0.2, 0.8, 0.4, 0.4, 0.1, 0.3, 0.8, 0.6])],
        ["x": Tensor(shape: [4, 3], values: [0.6, 0.1, 0.9, 0.2, 0.5, 0.2, 0.8, 0.9, 0.5, 0.5, 0.3, 0.7])],
    ])

    func reconstruct(_ choice: ReconstructRewriter.UnitChoice) throws -> (Model, [LayerReconstruction]) {
        let work = try Scratch()
        let model = try work.open(Self.mlp(), as: "mlp").model
        // The selection removes neuron 2, the one the others cannot stand in for. x0, x1 and x0 + x1 are collinear,
        // so the fit without the choice needs a little damping to be definite.
        let selection = try removing([2], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: Self.batches)
        return try ReconstructRewriter(lambda: 1e-9, damp: 1e-8, heldOutFraction: 0, unitChoice: choice)
            .reconstruct(model, applying: selection, in: context)
    }

    @Test func theChoiceRemovesAUnitTheOthersSpanAndTheOutputStaysExact() throws {
        let (result, layers) = try reconstruct(.obs)
        let choice = try #require(layers.first { $0.action == .unitChoice })
        #expect(choice.layer == "fc1")
        #expect(choice.note == "1 of 1 units differ from the selection")
        #expect(abs(try #require(choice.relativeErrorBefore) - 0.011736) < 1e-5, "removing x2 costs a share of y")
        #expect(try #require(choice.relativeErrorAfter) < 1e-6, "a dependent neuron costs nothing")
        // fc1 keeps x2's row: the removed neuron is one of x0, x1, x0 + x1.
        let rows = try #require(result["fc1.weight"]).tensor.floatValues()
        #expect(rows.count == 9)
        #expect(stride(from: 0, to: 9, by: 3).contains { Array(rows[$0..<($0 + 3)]) == [0, 0, 1] })
        let end = try #require(layers.last)
        #expect(end.action == .modelOutput)
        #expect(try #require(end.relativeErrorAfter) < 1e-8, "the re-fit recovers the dependent neuron exactly")
    }

    @Test func theSelectedUnitIsKeptByDefaultAndCostsOutput() throws {
        let (result, layers) = try reconstruct(.selected)
        #expect(!layers.contains { $0.action == .unitChoice })
        let rows = try #require(result["fc1.weight"]).tensor.floatValues()
        #expect(rows == [1, 0, 0, 0, 1, 0, 1, 1, 0], "x2's neuron is gone")
        #expect(abs(try #require(layers.last?.relativeErrorAfter) - 0.011736) < 1e-5, "y's least-squares residual")
    }
}
