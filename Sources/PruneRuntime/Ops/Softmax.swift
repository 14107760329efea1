import Foundation
import PruneCore

/// Softmax and LogSoftmax: along one axis from opset 13, over the flattened trailing dimensions before it.
enum SoftmaxOps {
    static let factories: [String: KernelFactory] = [
        "Softmax": { node, opset in try softmax(node, opset: opset, log: false) },
        "LogSoftmax": { node, opset in try softmax(node, opset: opset, log: true) },
    ]

    private static func softmax(_ node: GraphNode, opset: Int, log: Bool) throws -> any Kernel {
        let axisAttribute = try node.int("axis", default: opset >= 13 ? -1 : 1)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32], "input 0")
            let rank = x.shape.count
            let axis = try context.axis(axisAttribute, rank: rank)
            let outer = x.shape[..<axis].reduce(1, *)
            // Before opset 13 the input is coerced to 2-D at `axis`; from 13 the reduction is over `axis` alone.
            let length = opset >= 13 ? (rank == 0 ? 1 : x.shape[axis]) : x.shape[axis...].reduce(1, *)
            let inner = opset >= 13 ? x.shape.dropFirst(axis + 1).reduce(1, *) : 1
            let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
            // An empty tensor may still have a huge outer extent ([2^40, 0]): nothing to walk.
            if out.count == 0 { return [out] }
            let src = SharedPointer(x.f32)
            let dst = SharedPointer(out.f32)
            let lines = outer * inner
            parallelChunks(lines, threads: context.threads, grain: max(1, (1 << 13) / max(length, 1))) { range in
                for line in range {
                    let o = line / inner
                    let i = line % inner
                    let start = o * length * inner + i
                    softmaxLine(src.pointer + start, dst.pointer + start, length, inner, log)
                }
            }
            return [out]
        }
    }

    @inline(__always)
    private static func softmaxLine(_ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, _ stride: Int, _ log: Bool) {
        var maximum = -Float.infinity
        for k in 0..<n { maximum = max(maximum, s[k &* stride]) }
        var sum: Float = 0
        for k in 0..<n {
            let e = FastMath.exp(s[k &* stride] - maximum)
            d[k &* stride] = e
            sum += e
        }
        if log {
            let logSum = Foundation.log(sum)
            for k in 0..<n { d[k &* stride] = s[k &* stride] - maximum - logSum }
        } else {
            let inverse = 1 / sum
            for k in 0..<n { d[k &* stride] *= inverse }
        }
    }
}
