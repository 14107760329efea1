import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `prune eval` on crafted models (issue 12): errors name the model file, and the opset rule is inspect's.
struct EvalHostileTests {
    /// A model `x → Reshape([3]) → y` that fails at run time on a 2-element input, and data for it.
    static func failingModel(in workspace: Workspace, opset: Int = 17) throws -> (model: String, data: String) {
        var builder = GraphBuilder(opset: opset)
        builder.input("x")
        builder.initializer("shape", shape: [1], floats: [3])
        builder.node("Reshape", ["x", "shape"], ["y"], name: "reshape")
        builder.output("y")
        try builder.write(to: workspace.url.appending(path: "bad.onnx"))
        let input = Tensor(shape: [1, 2], values: [1, 2])
        _ = try SafetensorsWriter.write(
            try Model(parameters: [Parameter(name: "x", tensor: input)]), to: workspace.url.appending(path: "d.safetensors"),
            overwrite: true)
        return (workspace.path("bad.onnx"), workspace.path("d.safetensors"))
    }

    @Test func runtimeErrorsNameTheModelFileAndBatch() throws {
        let workspace = try Workspace()
        let (model, data) = try Self.failingModel(in: workspace)
        let result = try PruneBinary.run(["eval", model, "--data", data])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("prune: error: \(model): batch d.safetensors: node 'reshape' (op Reshape)"))
    }

    @Test func evalRefusesOpsetZeroLikeInspect() throws {
        let workspace = try Workspace()
        let (model, data) = try Self.failingModel(in: workspace, opset: 0)
        let result = try PruneBinary.run(["eval", model, "--data", data])
        #expect(result.status == 1)
        #expect(result.stderr == "prune: error: \(model): opset_import for domain '' has version 0\n")
    }
}
