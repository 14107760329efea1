import Foundation
import ONNXProto
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// Gemm products large enough to be split into row bands across threads, against a product computed here in
/// `Double`, for every combination of transposes and with a broadcast C.
@Suite("Gemm split across threads")
struct GemmSplitTests {
    @Test("transA/transB, alpha, beta and a row-broadcast C, 2 and 3 threads", arguments: [false, true], [false, true])
    func splitMatchesReference(transA: Bool, transB: Bool) throws {
        var state: UInt64 = transA ? (transB ? 11 : 12) : (transB ? 13 : 14)
        func random() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Double(state >> 40) / Double(1 << 24)) * 2 - 1
        }
        for (m, threads) in [(257, 2), (130, 3)] {
            let (n, k) = (64, 200)  // m·n·k ≥ 2^20: the split path
            let aShape = transA ? [k, m] : [m, k]
            let bShape = transB ? [n, k] : [k, n]
            let a = (0..<(m * k)).map { _ in random() }
            let b = (0..<(k * n)).map { _ in random() }
            let c = (0..<n).map { _ in random() }
            let (alpha, beta): (Float, Float) = (0.75, -1.5)
            var builder = GraphBuilder()
            builder.input("a")
            builder.initializer("b", shape: bShape, floats: b)
            builder.initializer("c", shape: [n], floats: c)
            builder.node("Gemm", ["a", "b", "c"], ["y"], int: ["transA": transA ? 1 : 0, "transB": transB ? 1 : 0])
            builder.output("y")
            for (name, value) in [("alpha", alpha), ("beta", beta)] {
                var attribute = Onnx_AttributeProto()
                attribute.name = name
                attribute.type = .float
                attribute.f = value
                builder.model.graph.node[0].attribute.append(attribute)
            }
            let interpreter = try Interpreter(graph: builder.graph(), options: .init(threads: threads))
            let y = try #require(try interpreter.run(["a": RuntimeTensor(shape: aShape, floats: a)])["y"])
            #expect(y.shape == [m, n])
            var worst = 0.0
            let values = y.floatValues()
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for t in 0..<k {
                        let av = transA ? a[t * m + i] : a[i * k + t]
                        let bv = transB ? b[j * k + t] : b[t * n + j]
                        sum += Double(av) * Double(bv)
                    }
                    let expected = Double(alpha) * sum + Double(beta) * Double(c[j])
                    worst = max(worst, abs(Double(values[i * n + j]) - expected) / max(1, abs(expected)))
                }
            }
            #expect(worst < 1e-4, "m \(m), threads \(threads): worst relative error \(worst)")
        }
    }
}
