import Foundation
import PruneTestSupport
import ONNXProto
import PruneKit
import Testing

/// Padded token positions (attention_mask = 0) are run but left out of the re-fit and the end error.
struct PaddingRowsTests {
    /// x [b, s, 2] → fc1 (MatMul, identity, + bias 0) → Relu → fc2 (MatMul [1, 2] + bias 0.5) → y1, and the output
    /// y = y1 · attention_mask (int64 [b, s], cast and unsqueezed), as a masked pooling reads a token's value.
    static func maskedGraph() -> Onnx_ModelProto {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, nil, 2])
        builder.input("attention_mask", [nil, nil])
        builder.graph.input[1].type.tensorType.elemType = 7
        builder.output("y", [nil, nil, 1])
        builder.weight("fc1.weight", [2, 2], values: [1, 0, 0, 1])
        builder.weight("fc1.bias", [2], values: [0, 0])
        builder.node("MatMul", ["x", "fc1.weight"], ["h0"], name: "fc1")
        builder.node("Add", ["h0", "fc1.bias"], ["h"], name: "fc1_bias")
        builder.node("Relu", ["h"], ["r"], name: "relu")
        builder.weight("fc2.weight", [2, 1], values: [1, 2])
        builder.weight("fc2.bias", [1], values: [0.5])
        builder.node("MatMul", ["r", "fc2.weight"], ["y0"], name: "fc2")
        builder.node("Add", ["y0", "fc2.bias"], ["y1"], name: "fc2_bias")
        builder.node("Cast", ["attention_mask"], ["m"], name: "cast", ints: ["to": 1])
        builder.int64s("last", [-1])
        builder.node("Unsqueeze", ["m", "last"], ["m3"], name: "unsqueeze")
        builder.node("Mul", ["y1", "m3"], ["y"], name: "mask")
        return builder.model
    }

    /// Two sequences of 3 positions. On the 4 real tokens x1 = 0.5·x0 + 0.1, so with unit 1 of fc1 gone
    /// y1 = x0 + 2·x1 + 0.5 = 2·x0 + 0.7 exactly; the 2 padded positions hold values off that line.
    static let batches = InMemoryBatches(batches: [[
        "x": Tensor(shape: [2, 3, 2], values: [0.2, 0.2, 0.6, 0.4, 5, 0.1, 1.0, 0.6, 0.4, 0.3, 0.3, 4]),
        "attention_mask": try! Tensor(
            dtype: .i64, shape: [2, 3], bytes: [Int64]([1, 1, 0, 1, 1, 0]).withUnsafeBytes { Array($0) }),
    ]])

    func reconstructed(padding: String) throws -> (Model, [LayerReconstruction]) {
        let work = try Scratch()
        let model = try work.open(Self.maskedGraph(), as: "masked").model
        let selection = try removing([1], ofGroup: "fc1", in: model)
        let context = PruneContext(model: model, calibrationBatches: Self.batches)
        return try ReconstructRewriter(lambda: 0, heldOutFraction: 0, padding: padding)
            .reconstruct(model, applying: selection, in: context)
    }

    @Test func paddedPositionsAreLeftOutOfTheFit() throws {
        let (result, layers) = try reconstructed(padding: "auto")
        let fc2 = try #require(layers.first { $0.layer == "fc2" })
        #expect(fc2.rows == 4, "the 4 real tokens, not the 6 positions")
        #expect(try #require(fc2.relativeErrorAfter) < 1e-9)
        let weight = try #require(result["fc2.weight"]).tensor.floatValues()
        let bias = try #require(result["fc2.bias"]).tensor.floatValues()
        #expect(abs(weight[0] - 2) < 1e-4 && abs(bias[0] - 0.7) < 1e-4, "\(weight) \(bias)")
        let end = try #require(layers.last)
        #expect(end.action == .modelOutput && end.layer == "y")
        #expect(try #require(end.relativeErrorAfter) < 1e-9)
    }

    @Test func withoutTheMaskThePaddingPullsTheFitOff() throws {
        let (result, layers) = try reconstructed(padding: "none")
        let fc2 = try #require(layers.first { $0.layer == "fc2" })
        #expect(fc2.rows == 6)
        #expect(abs(try #require(result["fc2.weight"]).tensor.floatValues()[0] - 2) > 0.01)
        // The output reads real tokens only, and on them the fit is now off.
        #expect(try #require(layers.last?.relativeErrorAfter) > 1e-3)
    }

    @Test func aNamedMaskMustBeAGraphInput() throws {
        #expect(throws: PruneError.self) { try reconstructed(padding: "input_mask") }
        do {
            _ = try reconstructed(padding: "input_mask")
        } catch let error as PruneError {
            #expect(error.message.contains("padding input 'input_mask' is not an input of the graph (inputs: x, attention_mask)"))
        }
        let (_, layers) = try reconstructed(padding: "attention_mask")
        #expect(layers.first { $0.layer == "fc2" }?.rows == 4)
    }
}
