import Foundation
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// MatMul products large enough to run on several threads — one B with A's batch folded into rows, and batched
/// products with a broadcast batch (attention heads) — against products computed here in `Double`.
@Suite("MatMul split across threads")
struct MatMulSplitTests {
    @Test(
        "folded rows and batched heads, 2 and 3 threads",
        arguments: [
            ([3, 70, 96], [96, 80]),  // one B: 210 rows × 80 × 96 ≥ 2^20, split by rows
            ([2, 3, 64, 48], [2, 1, 48, 72]),  // six products broadcast over the head axis, split by product
        ] as [([Int], [Int])], [2, 3])
    func splitMatchesReference(shapes: ([Int], [Int]), threads: Int) throws {
        let (aShape, bShape) = shapes
        var state = UInt64(aShape.count * 31 + threads)
        func random() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Double(state >> 40) / Double(1 << 24)) * 2 - 1
        }
        let a = (0..<aShape.reduce(1, *)).map { _ in random() }
        let b = (0..<bShape.reduce(1, *)).map { _ in random() }
        var builder = GraphBuilder()
        builder.input("a")
        builder.input("b")
        builder.node("MatMul", ["a", "b"], ["y"])
        builder.output("y")
        let interpreter = try Interpreter(graph: builder.graph(), options: .init(threads: threads))
        let y = try #require(
            try interpreter.run([
                "a": RuntimeTensor(shape: aShape, floats: a), "b": RuntimeTensor(shape: bShape, floats: b),
            ])["y"])
        let (m, k, n) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
        let batch = Array(aShape.dropLast(2))
        #expect(y.shape == batch + [m, n])
        let values = y.floatValues()
        let count = batch.reduce(1, *)
        var worst = 0.0
        for index in 0..<count {
            // B's batch: one matrix, or [2, 1] broadcast over A's [2, 3] (the head axis).
            let bIndex = bShape.count == 2 ? 0 : index / batch[1]
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for t in 0..<k {
                        sum += Double(a[(index * m + i) * k + t]) * Double(b[(bIndex * k + t) * n + j])
                    }
                    let got = Double(values[(index * m + i) * n + j])
                    worst = max(worst, abs(got - sum) / max(1, abs(sum)))
                }
            }
        }
        #expect(worst < 1e-4, "\(aShape) × \(bShape), \(threads) threads: worst relative error \(worst)")
    }
}
