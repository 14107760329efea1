import Foundation
import PruneCore

/// BatchNormalization (inference form) and LayerNormalization.
enum NormalizationOps {
    static let factories: [String: KernelFactory] = [
        "BatchNormalization": batchNorm,
        "LayerNormalization": layerNorm,
    ]

    /// `y = (x − mean) / sqrt(var + ε) · scale + B`, per channel (axis 1).
    private static let batchNorm: KernelFactory = { node, _ in
        let epsilon = try node.float("epsilon", default: 1e-5)
        try node.rejectAttribute("training_mode", unless: 0)
        if try node.optionalInt("is_test") == 0 {
            throw node.error(.unsupported, "attribute is_test=0 (training) is not supported")
        }
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw node.error(.unsupported, "running mean/variance outputs (training) are not supported")
        }
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32], "input 0 (X)")
            let parameters = try (1...4).map { i -> RuntimeTensor in
                let t = try context.input(inputs, i)
                try context.require(t, [.f32], "input \(i)")
                return t
            }
            guard x.shape.count >= 2, parameters.allSatisfy({ $0.count == x.shape[1] }) else {
                throw context.error(.shapeMismatch, "scale, B, mean and var must have C = \(x.shape.count > 1 ? x.shape[1] : 0) values")
            }
            let channels = x.shape[1]
            let size = x.shape.dropFirst(2).reduce(1, *)
            var scale = [Float](repeating: 0, count: channels)
            var shift = [Float](repeating: 0, count: channels)
            for c in 0..<channels {
                let s = parameters[0].f32[c] / (parameters[3].f32[c] + epsilon).squareRoot()
                scale[c] = s
                shift[c] = parameters[1].f32[c] - parameters[2].f32[c] * s
            }
            let (scales, shifts) = (scale, shift)
            let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
            let src = SharedPointer(x.f32)
            let dst = SharedPointer(out.f32)
            let planes = x.shape[0] * channels
            parallelChunks(planes, threads: context.threads, grain: max(1, (1 << 15) / max(size, 1))) { range in
                for plane in range {
                    let c = plane % channels
                    affine(src.pointer + plane * size, dst.pointer + plane * size, size, scales[c], shifts[c])
                }
            }
            return [out]
        }
    }

    @inline(__always)
    private static func affine(_ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float) {
        for i in 0..<n { d[i] = s[i] * a + b }
    }

    /// Normalises over the dimensions from `axis` on; optional outputs Mean and InvStdDev.
    private static let layerNorm: KernelFactory = { node, _ in
        let axisAttribute = try node.int("axis", default: -1)
        let epsilon = try node.float("epsilon", default: 1e-5)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let scale = try context.input(inputs, 1)
            try context.require(x, [.f32], "input 0 (X)")
            try context.require(scale, [.f32], "input 1 (Scale)")
            let axis = try context.axis(axisAttribute, rank: x.shape.count)
            let normalizedShape = Array(x.shape[axis...])
            let rows = x.shape[..<axis].reduce(1, *)
            let size = normalizedShape.reduce(1, *)
            func expanded(_ t: RuntimeTensor, _ what: String) throws -> RuntimeTensor {
                if t.shape == normalizedShape || (t.count == size && t.shape.count <= normalizedShape.count) { return t }
                guard Broadcast.shape([t.shape, normalizedShape]) == normalizedShape else {
                    throw context.error(.shapeMismatch, "\(what) \(t.shape) does not broadcast to \(normalizedShape)")
                }
                let full = RuntimeTensor(uninitialized: .f32, shape: normalizedShape)
                fillBroadcast(t, into: full)
                return full
            }
            let gamma = try expanded(scale, "Scale")
            var beta: RuntimeTensor?
            if inputs.count > 2, let b = inputs[2] {
                try context.require(b, [.f32], "input 2 (B)")
                beta = try expanded(b, "B")
            }
            let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
            let statsShape = Array(x.shape[..<axis]) + Array(repeating: 1, count: x.shape.count - axis)
            // An empty input can still have a huge outer extent: the statistics are allocated through the budget.
            let means = try context.allocate(.f32, statsShape, "mean")
            let inverses = try context.allocate(.f32, statsShape, "inverse standard deviation")
            let src = SharedPointer(x.f32)
            let dst = SharedPointer(out.f32)
            let g = SharedPointer(gamma.f32)
            let b = beta.map { SharedPointer($0.f32) }
            let m = SharedPointer(means.f32)
            let v = SharedPointer(inverses.f32)
            parallelChunks(rows, threads: context.threads, grain: max(1, (1 << 14) / max(size, 1))) { range in
                for row in range {
                    let (mean, inverse) = normalizeRow(
                        src.pointer + row * size, dst.pointer + row * size, size, epsilon, g.pointer, b?.pointer)
                    m.pointer[row] = mean
                    v.pointer[row] = inverse
                }
            }
            return [out, means, inverses]
        }
    }

    @inline(__always)
    private static func normalizeRow(
        _ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, _ epsilon: Float,
        _ gamma: UnsafeMutablePointer<Float>, _ beta: UnsafeMutablePointer<Float>?
    ) -> (Float, Float) {
        var sum: Float = 0
        for i in 0..<n { sum += s[i] }
        let mean = sum / Float(n)
        var squares: Float = 0
        for i in 0..<n {
            let centered = s[i] - mean
            squares += centered * centered
        }
        let inverse = 1 / (squares / Float(n) + epsilon).squareRoot()
        if let beta {
            for i in 0..<n { d[i] = (s[i] - mean) * inverse * gamma[i] + beta[i] }
        } else {
            for i in 0..<n { d[i] = (s[i] - mean) * inverse * gamma[i] }
        }
        return (mean, inverse)
    }
}
