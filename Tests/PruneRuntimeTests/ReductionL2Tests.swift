import Foundation
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// ReduceL2 and ReduceSumSquare: PyTorch exports `F.normalize` / `Tensor.norm(dim=…)` (the L2 normalisation of
/// sentence-embedding models) as ReduceL2.
@Suite("Reductions: L2 and sum of squares")
struct ReductionL2Tests {
    private func reduce(_ op: String, _ x: RuntimeTensor, axes: [Int]?, keepDims: Int) throws -> RuntimeTensor {
        var builder = GraphBuilder(opset: 17)
        builder.input("x")
        builder.node(op, ["x"], ["y"], ints: axes.map { ["axes": $0] } ?? [:], int: ["keepdims": keepDims])
        builder.output("y")
        return try #require(try Interpreter(graph: builder.graph()).run(["x": x])["y"])
    }

    @Test("ReduceL2 over the last axis, kept and dropped, and over all axes")
    func l2() throws {
        let x = RuntimeTensor(shape: [2, 3], floats: [3, 4, 0, 1, -2, 2])
        let kept = try reduce("ReduceL2", x, axes: [-1], keepDims: 1)
        #expect(kept.shape == [2, 1])
        #expect(close(kept.floatValues(), [5, 3]))
        let dropped = try reduce("ReduceL2", x, axes: [1], keepDims: 0)
        #expect(dropped.shape == [2])
        #expect(close(dropped.floatValues(), [5, 3]))
        let columns = try reduce("ReduceL2", x, axes: [0], keepDims: 1)
        #expect(columns.shape == [1, 3])
        #expect(close(columns.floatValues(), [Float(10).squareRoot(), Float(20).squareRoot(), 2]))
        let all = try reduce("ReduceL2", x, axes: nil, keepDims: 0)
        #expect(all.shape == [])
        #expect(close(all.floatValues(), [Float(34).squareRoot()]))
    }

    @Test("ReduceSumSquare sums squares without the root")
    func sumSquare() throws {
        let x = RuntimeTensor(shape: [2, 3], floats: [3, 4, 0, 1, -2, 2])
        let y = try reduce("ReduceSumSquare", x, axes: [1], keepDims: 1)
        #expect(y.shape == [2, 1])
        #expect(close(y.floatValues(), [25, 9]))
    }
}
