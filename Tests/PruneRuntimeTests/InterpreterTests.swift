import Foundation
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// Records what it observes; the shape of a calibration-statistics collector.
final class RecordingObserver: NodeObserver {
    var seen: [(String, [Int])] = []
    var sums: [String: Float] = [:]
    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        seen.append((node.opType, outputs[0].shape))
        sums[node.name] = outputs[0].floatValues().reduce(0, +)
    }
}

@Suite("Interpreter")
struct InterpreterTests {
    /// y = Relu(x · W + b) with x: 1×2, W: 2×2.
    static func mlp() throws -> ONNXGraph {
        var builder = GraphBuilder()
        builder.input("x")
        builder.initializer("W", shape: [2, 2], floats: [1, -1, 2, -2])
        builder.initializer("b", shape: [2], floats: [0.5, 0.5])
        builder.node("MatMul", ["x", "W"], ["h"], name: "fc")
        builder.node("Add", ["h", "b"], ["z"], name: "bias")
        builder.node("Relu", ["z"], ["y"], name: "act")
        builder.output("y")
        return try builder.graph()
    }

    @Test("the observer sees every node's outputs in order")
    func observer() throws {
        let interpreter = try Interpreter(graph: Self.mlp())
        let observer = RecordingObserver()
        let y = try interpreter.run(["x": RuntimeTensor(shape: [1, 2], floats: [1, 1])], observer: observer)["y"]
        #expect(y?.floatValues() == [3.5, 0])
        #expect(observer.seen.map(\.0) == ["MatMul", "Add", "Relu"])
        #expect(observer.seen.allSatisfy { $0.1 == [1, 2] })
        #expect(observer.sums == ["fc": 0, "bias": 1, "act": 3.5])
    }

    @Test("an unsupported op is reported at build time, naming the node and op")
    func unsupportedOp() throws {
        var builder = GraphBuilder()
        builder.input("x")
        builder.node("Relu", ["x"], ["a"], name: "first")
        builder.node("FancyOp", ["a"], ["y"], name: "mystery")
        builder.output("y")
        let graph = try builder.graph()
        let error = try #require(throws: PruneError.self) { try Interpreter(graph: graph) }
        #expect(error.kind == .unsupported)
        #expect(error.message.contains("'mystery'") && error.message.contains("FancyOp"))
    }

    @Test("initializers can be replaced by a pruned model's tensors without re-decoding")
    func initializerOverride() throws {
        let interpreter = try Interpreter(graph: Self.mlp())
        let x = RuntimeTensor(shape: [1, 2], floats: [1, 1])
        let model = try Model(parameters: [Parameter(name: "W", tensor: Tensor(shape: [2, 2], values: [1, 0, 0, 1]))])
        #expect(try interpreter.replaceInitializers(from: model) == 1)
        #expect(try interpreter.run(["x": x])["y"]?.floatValues() == [1.5, 1.5])
        interpreter.resetInitializers()
        #expect(try interpreter.run(["x": x])["y"]?.floatValues() == [3.5, 0])
        #expect(throws: PruneError.self) { try interpreter.replaceInitializers(["nope": x]) }
    }

    @Test("intermediates are freed after their last consumer, so a long chain holds few values at once")
    func boundedMemory() throws {
        var builder = GraphBuilder()
        builder.input("v0")
        for i in 0..<50 { builder.node(i % 2 == 0 ? "Relu" : "Sigmoid", ["v\(i)"], ["v\(i + 1)"]) }
        builder.output("v50")
        let interpreter = try Interpreter(graph: builder.graph())
        _ = try interpreter.run(["v0": RuntimeTensor(shape: [1000], floats: Array(repeating: 1, count: 1000))])
        #expect(interpreter.lastRunPeakLiveValues <= 2)
    }

    @Test("RuntimeTensor converts to and from PruneCore tensors")
    func conversion() throws {
        let tensor = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let runtime = try RuntimeTensor(tensor)
        #expect(runtime.dtype == .f32 && runtime.shape == [2, 2] && runtime.floatValues() == [1, 2, 3, 4])
        #expect(runtime.tensor().floatValues() == [1, 2, 3, 4])
        let ints = RuntimeTensor(shape: [3], int64s: [1, -2, 3])
        #expect(try RuntimeTensor(ints.tensor()).int64Values() == [1, -2, 3])
    }
}
