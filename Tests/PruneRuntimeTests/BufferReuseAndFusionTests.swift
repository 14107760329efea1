import Foundation
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// Keeps every tensor it sees, to check that kept tensors are never recycled under it.
private final class KeepingObserver: NodeObserver {
    var kept: [(String, RuntimeTensor, [Float])] = []
    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        for output in outputs { kept.append((node.opType, output, output.floatValues())) }
    }
}

@Suite("Buffer reuse and Conv+BatchNormalization fusion")
struct BufferReuseAndFusionTests {
    /// x [N, 4, 12, 12] → Conv 3×3 same (8 filters, bias) → BatchNormalization → Relu → Conv 1×1 → BN (no Relu)
    /// → Add with a side branch, so one chain fuses with Relu, one without, and every intermediate is ≥ 16 KiB.
    static func model(batch: Int = 8) throws -> (ONNXGraph, [String: RuntimeTensor]) {
        var b = GraphBuilder()
        b.input("x")
        func values(_ n: Int, _ seed: Int, scale: Float = 0.3, offset: Float = 0) -> [Float] {
            (0..<n).map { offset + scale * sin(Float($0 * 7 + seed * 13) * 0.37) }
        }
        b.initializer("w1", shape: [8, 4, 3, 3], floats: values(8 * 4 * 9, 1))
        b.initializer("b1", shape: [8], floats: values(8, 2))
        b.initializer("g1", shape: [8], floats: values(8, 3, offset: 1))
        b.initializer("be1", shape: [8], floats: values(8, 4))
        b.initializer("m1", shape: [8], floats: values(8, 5))
        b.initializer("v1", shape: [8], floats: values(8, 6, scale: 0.2, offset: 0.5))
        b.initializer("w2", shape: [8, 8, 1, 1], floats: values(64, 7))
        b.initializer("g2", shape: [8], floats: values(8, 8, offset: 1))
        b.initializer("be2", shape: [8], floats: values(8, 9))
        b.initializer("m2", shape: [8], floats: values(8, 10))
        b.initializer("v2", shape: [8], floats: values(8, 11, scale: 0.2, offset: 0.5))
        b.node("Conv", ["x", "w1", "b1"], ["c1"], ints: ["pads": [1, 1, 1, 1]])
        b.node("BatchNormalization", ["c1", "g1", "be1", "m1", "v1"], ["n1"])
        b.node("Relu", ["n1"], ["r1"])
        b.node("Conv", ["r1", "w2"], ["c2"])
        b.node("BatchNormalization", ["c2", "g2", "be2", "m2", "v2"], ["n2"])
        b.node("Add", ["n2", "r1"], ["y"])
        b.output("y")
        let x = RuntimeTensor(shape: [batch, 4, 12, 12], floats: values(batch * 4 * 144, 12, scale: 2))
        return (try b.graph(), ["x": x])
    }

    @Test("fused runs equal the node-by-node run an observer sees, and both fuse candidates are found")
    func fusionMatchesUnfused() throws {
        let (graph, inputs) = try Self.model()
        for threads in [1, 2] {
            let interpreter = try Interpreter(graph: graph, options: .init(threads: threads))
            #expect(interpreter.fusedChainCount == 2)
            let fused = try #require(try interpreter.run(inputs)["y"]).floatValues()
            let observer = KeepingObserver()
            let plain = try #require(try interpreter.run(inputs, observer: observer)["y"]).floatValues()
            #expect(observer.kept.map(\.0) == ["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Add"])
            #expect(close(fused, plain, tolerance: 1e-5))
            #expect(fused.contains { $0 < 0 } && plain.contains { $0 > 0 })
        }
    }

    @Test("fusion follows replaced initializers and needs sole readers that are not graph outputs")
    func fusionInvalidationAndLegality() throws {
        let (graph, inputs) = try Self.model()
        let interpreter = try Interpreter(graph: graph)
        let before = try #require(try interpreter.run(inputs)["y"]).floatValues()
        try interpreter.replaceInitializers(["g1": RuntimeTensor(shape: [8], floats: Array(repeating: 2, count: 8))])
        let fused = try #require(try interpreter.run(inputs)["y"]).floatValues()
        let plain = try #require(try interpreter.run(inputs, observer: KeepingObserver())["y"]).floatValues()
        #expect(close(fused, plain, tolerance: 1e-5))
        #expect(!close(fused, before, tolerance: 1e-3))
        interpreter.resetInitializers()
        #expect(close(try #require(try interpreter.run(inputs)["y"]).floatValues(), before, tolerance: 0))

        // The Conv output is also a graph output: nothing may fuse there.
        var b = GraphBuilder()
        b.input("x")
        b.initializer("w", shape: [2, 1, 1, 1], floats: [1, -1])
        for name in ["g", "be", "m", "v"] { b.initializer(name, shape: [2], floats: [1, 1]) }
        b.node("Conv", ["x", "w"], ["c"])
        b.node("BatchNormalization", ["c", "g", "be", "m", "v"], ["n"])
        b.node("Relu", ["n"], ["r"])
        b.output("r")
        b.output("c")
        #expect(try Interpreter(graph: b.graph()).fusedChainCount == 0)
    }

    @Test("a warm interpreter reuses storage, and returned or observed tensors are never overwritten")
    func reuse() throws {
        let (graph, inputs) = try Self.model()
        let interpreter = try Interpreter(graph: graph, options: .init(threads: 1))
        let first = try #require(try interpreter.run(inputs)["y"])
        let firstValues = first.floatValues()
        let afterFirst = interpreter.bufferPoolCounts
        #expect(afterFirst.allocated > 0)
        let other = ["x": RuntimeTensor(shape: [8, 4, 12, 12], floats: (0..<(8 * 4 * 144)).map { Float($0 % 5) - 2 })]
        _ = try interpreter.run(other)
        let second = interpreter.bufferPoolCounts
        for _ in 0..<3 { _ = try interpreter.run(other) }
        let warm = interpreter.bufferPoolCounts
        // The kept output holds one buffer, so the second run may need one more; after that nothing is allocated.
        #expect(second.allocated <= afterFirst.allocated + 1)
        #expect(warm.allocated == second.allocated)
        #expect(warm.reused > second.reused)
        #expect(first.floatValues() == firstValues)

        let observer = KeepingObserver()
        _ = try interpreter.run(inputs, observer: observer)
        for _ in 0..<2 { _ = try interpreter.run(other) }
        _ = try interpreter.run(other, observer: KeepingObserver())
        for (_, tensor, values) in observer.kept { #expect(tensor.floatValues() == values) }
    }
}
