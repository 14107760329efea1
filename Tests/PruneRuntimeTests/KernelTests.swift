import Foundation
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// Hand-computed results for kernels whose index arithmetic is easy to get wrong.
@Suite("Kernels")
struct KernelTests {
    @Test("grouped conv with padding 1 and stride 2 matches hand-computed values")
    func groupedConv() throws {
        var builder = GraphBuilder()
        builder.input("x")
        builder.initializer("w", shape: [2, 1, 2, 2], floats: [1, 0, 0, 1, 1, 1, 1, 1])
        builder.initializer("b", shape: [2], floats: [0.5, -1])
        builder.node("Conv", ["x", "w", "b"], ["y"], ints: ["pads": [1, 1, 1, 1], "strides": [2, 2]], int: ["group": 2])
        builder.output("y")
        let interpreter = try Interpreter(graph: builder.graph())
        let x = RuntimeTensor(shape: [1, 2, 3, 3], floats: (0..<18).map(Float.init))
        let y = try #require(try interpreter.run(["x": x])["y"])
        #expect(y.shape == [1, 2, 2, 2])
        // Channel 0: x[r][c] + x[r+1][c+1] over windows starting at rows/cols −1 and 1; channel 1: window sums.
        #expect(y.floatValues() == [0.5, 2.5, 6.5, 12.5, 8, 20, 26, 59])
    }

    @Test("conv with SAME_UPPER auto_pad and dilation 2 keeps the spatial size")
    func dilatedSameConv() throws {
        var builder = GraphBuilder()
        builder.input("x")
        builder.initializer("w", shape: [1, 1, 2, 2], floats: [1, 1, 1, 1])
        builder.node("Conv", ["x", "w"], ["y"], ints: ["dilations": [2, 2]], string: ["auto_pad": "SAME_UPPER"])
        builder.output("y")
        let interpreter = try Interpreter(graph: builder.graph())
        let x = RuntimeTensor(shape: [1, 1, 3, 3], floats: (1...9).map(Float.init))
        let y = try #require(try interpreter.run(["x": x])["y"])
        #expect(y.shape == [1, 1, 3, 3])
        // Span 3 needs 2 padding: 1 before, 1 after. Taps at offsets (−1,−1), (−1,+1), (+1,−1), (+1,+1).
        #expect(y.floatValues() == [5, 10, 5, 10, 20, 10, 5, 10, 5])
    }

    @Test("Add broadcasts [2,1,3] with [4,1] to [2,4,3]")
    func broadcastAdd() throws {
        var builder = GraphBuilder()
        builder.input("a")
        builder.input("b")
        builder.node("Add", ["a", "b"], ["c"])
        builder.output("c")
        let interpreter = try Interpreter(graph: builder.graph())
        let a = RuntimeTensor(shape: [2, 1, 3], floats: [1, 2, 3, 10, 20, 30])
        let b = RuntimeTensor(shape: [4, 1], floats: [100, 200, 300, 400])
        let c = try #require(try interpreter.run(["a": a, "b": b])["c"])
        #expect(c.shape == [2, 4, 3])
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { expected.append([1, 2, 3, 10, 20, 30][i * 3 + k] + Float(j + 1) * 100) } } }
        #expect(c.floatValues() == expected)
    }

    @Test("Gelu (opset 20) exact and tanh forms")
    func gelu() throws {
        for (mode, expected) in [
            ("none", [Float(-0.15865525), 0, 0.84134475, 1.95449974]),
            ("tanh", [Float(-0.15880801), 0, 0.84119199, 1.95459769]),
        ] {
            var builder = GraphBuilder(opset: 20)
            builder.input("x")
            builder.node("Gelu", ["x"], ["y"], string: ["approximate": mode])
            builder.output("y")
            let y = try #require(try Interpreter(graph: builder.graph()).run(["x": RuntimeTensor(shape: [4], floats: [-1, 0, 1, 2])])["y"])
            #expect(close(y.floatValues(), expected), "approximate=\(mode): \(y.floatValues())")
        }
    }

    @Test("batched MatMul broadcasts a 3-D A against a 2-D B and a 4-D pair")
    func batchedMatMul() throws {
        var builder = GraphBuilder()
        builder.input("a")
        builder.input("b")
        builder.node("MatMul", ["a", "b"], ["c"])
        builder.output("c")
        let interpreter = try Interpreter(graph: builder.graph())
        let a = RuntimeTensor(shape: [2, 1, 2, 3], floats: [1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0])
        let b = RuntimeTensor(shape: [1, 2, 3, 1], floats: [1, 1, 1, 1, 2, 3])
        let c = try #require(try interpreter.run(["a": a, "b": b])["c"])
        #expect(c.shape == [2, 2, 2, 1])
        #expect(c.floatValues() == [6, 15, 14, 32, 1, 1, 1, 2])
    }

    @Test("Exp and Erf (fast approximations) stay within 1e-6 of the C library over their useful range")
    func transcendentalAccuracy() throws {
        let values = stride(from: Float(-80), through: 80, by: 0.01).map { $0 }
        for (op, reference, relative) in [
            ("Exp", { (x: Float) in Foundation.exp(x) }, true), ("Erf", { (x: Float) in Foundation.erf(x) }, false),
        ] {
            var builder = GraphBuilder()
            builder.input("x")
            builder.node(op, ["x"], ["y"])
            builder.output("y")
            let y = try #require(
                try Interpreter(graph: builder.graph()).run(["x": RuntimeTensor(shape: [values.count], floats: values)])["y"])
            var worst: Float = 0
            for (x, got) in zip(values, y.floatValues()) {
                let want = reference(x)
                worst = max(worst, abs(got - want) / (relative ? max(want, .leastNormalMagnitude) : 1))
            }
            #expect(worst < 1e-6, "\(op): worst error \(worst)")
        }
    }
}
