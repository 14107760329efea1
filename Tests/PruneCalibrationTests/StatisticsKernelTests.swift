import Foundation
import PruneKit
import PruneTestSupport
import Testing

@testable import PruneRuntime

/// The fused statistics pass against a plain `Double` reference, and the collector's once-per-value scanning.
struct StatisticsKernelTests {
    /// Deterministic values in [-2, 2) with runs of exact zeros and negative zeros.
    private func values(_ count: Int) -> [Float] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            if i % 7 == 3 { return i % 2 == 0 ? 0 : -0.0 }
            return Float(Double(state >> 40) / Double(1 << 24) * 4 - 2)
        }
    }

    private func reference(_ x: [Float], outer: Int, extent: Int, inner: Int) -> AxisSums {
        var sums = AxisSums(
            squares: Array(repeating: 0, count: extent), absolutes: Array(repeating: 0, count: extent),
            zeros: Array(repeating: 0, count: extent), count: outer * inner)
        for o in 0..<outer {
            for f in 0..<extent {
                for i in 0..<inner {
                    let v = Double(x[(o * extent + f) * inner + i])
                    sums.squares[f] += v * v
                    sums.absolutes[f] += abs(v)
                    if v == 0 { sums.zeros[f] += 1 }
                }
            }
        }
        return sums
    }

    private func near(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
    }

    @Test(arguments: [
        (3, 37, 5000),  // channels-first runs crossing a lane block, with a scalar tail
        (2, 5, 13),  // runs shorter than one vector
        (9000, 35, 1),  // channels-last rows: 4 strips of 8 and a 3-feature tail
        (4, 1, 1),
    ])
    func fusedPassMatchesADoubleReferenceOnAnyThreadCount(shape: (Int, Int, Int)) {
        let (outer, extent, inner) = shape
        let x = values(outer * extent * inner)
        let expected = reference(x, outer: outer, extent: extent, inner: inner)
        let one = x.withUnsafeBufferPointer {
            StatisticsKernels.sums($0.baseAddress!, outer: outer, extent: extent, inner: inner, threads: 1)
        }
        let two = x.withUnsafeBufferPointer {
            StatisticsKernels.sums($0.baseAddress!, outer: outer, extent: extent, inner: inner, threads: 2)
        }
        #expect(near(one.squares, expected.squares))
        #expect(near(one.absolutes, expected.absolutes))
        #expect(one.zeros == expected.zeros)
        #expect(one.count == expected.count)
        // Threads split the features, never one feature's sum: results are identical.
        #expect(one.squares == two.squares && one.absolutes == two.absolutes && one.zeros == two.zeros)
    }

    @Test func aValueReadAsOutputAndAsInputsIsCountedOncePerUseAndBatch() throws {
        // x → Conv(w1) → Relu r → Conv(w2) and Conv(w3): r is w1's observed output and the input of w2 and w3.
        var b = GraphBuilder()
        b.input("x")
        b.initializer("w1", shape: [2, 1, 1, 1], floats: [1, -1])
        b.initializer("w2", shape: [1, 2, 1, 1], floats: [1, 1])
        b.initializer("w3", shape: [1, 2, 1, 1], floats: [2, 0])
        b.node("Conv", ["x", "w1"], ["c"])
        b.node("Relu", ["c"], ["r"])
        b.node("Conv", ["r", "w2"], ["y2"])
        b.node("Conv", ["r", "w3"], ["y3"])
        b.output("y2")
        b.output("y3")
        let graph = try b.graph()
        let collector = try StatisticsCollector(graph: graph, kinds: .all, threads: 2)
        let interpreter = try Interpreter(graph: graph, options: .init(threads: 1))
        let first = RuntimeTensor(shape: [1, 1, 1, 3], floats: [1, -2, 0])
        let second = RuntimeTensor(shape: [1, 1, 1, 3], floats: [3, 0, 0])
        _ = try interpreter.run(["x": first], observer: collector)
        collector.finishBatch()
        _ = try interpreter.run(["x": second], observer: collector)
        collector.finishBatch()
        let statistics = collector.statistics
        // r channel 0 = relu(x) = [1, 0, 0], [3, 0, 0]; channel 1 = relu(-x) = [0, 2, 0], [0, 0, 0].
        // Σx per channel (input means are in `.all`): [1 + 3, 2].
        #expect(statistics.inputs["w2"] == InputFeatureStatistics(squareSums: [10, 4], count: 6, sums: [4, 2]))
        #expect(statistics.inputs["w3"] == statistics.inputs["w2"])
        #expect(
            statistics.outputs["w1"]
                == OutputUnitStatistics(absoluteSums: [4, 2], zeroCounts: [4, 5], count: 6, observedOp: "Relu"))
        // x = 1, -2, 0, 3, 0, 0: Σx² 14, Σx 2.
        #expect(statistics.inputs["w1"] == InputFeatureStatistics(squareSums: [14], count: 6, sums: [2]))
    }

    @Test func runsWithoutFinishBatchDoNotReuseAnEarlierRunsSums() throws {
        var b = GraphBuilder()
        b.input("x")
        b.initializer("w1", shape: [1, 1], floats: [1])
        b.initializer("w2", shape: [1, 1], floats: [1])
        b.node("MatMul", ["x", "w1"], ["m"])
        b.node("Relu", ["m"], ["r"])
        b.node("MatMul", ["r", "w2"], ["y"])
        b.output("y")
        let graph = try b.graph()
        let collector = try StatisticsCollector(graph: graph, kinds: .all)
        let interpreter = try Interpreter(graph: graph, options: .init(threads: 1))
        _ = try interpreter.run(["x": RuntimeTensor(shape: [1, 1], floats: [2])], observer: collector)
        _ = try interpreter.run(["x": RuntimeTensor(shape: [1, 1], floats: [3])], observer: collector)
        #expect(collector.statistics.inputs["w2"]?.squareSums == [13])
        #expect(collector.statistics.outputs["w1"]?.absoluteSums == [5])
    }
}
