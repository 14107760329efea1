import Foundation
import PruneCore

/// LRN (float32, NCHW and other ranks ≥ 3): each value divided by `(bias + alpha/size · Σ x²)^beta` over `size`
/// neighbouring channels (`floor((size−1)/2)` before, `ceil((size−1)/2)` after).
enum LRNOps {
    static let factories: [String: KernelFactory] = [
        "LRN": { node, _ in
            let alpha = try node.float("alpha", default: 0.0001)
            let beta = try node.float("beta", default: 0.75)
            let bias = try node.float("bias", default: 1)
            guard let size = try node.optionalInt("size"), size > 0 else { throw node.error(.invalidInput, "attribute size is missing") }
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.f32], "input 0")
                guard x.shape.count >= 2 else { throw context.error(.invalidInput, "input has rank \(x.shape.count), needs 2 or more") }
                let channels = x.shape[1]
                let plane = x.shape.dropFirst(2).reduce(1, *)
                let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
                let before = (size - 1) / 2
                let after = size - 1 - before
                let scale = alpha / Float(size)
                for n in 0..<x.shape[0] {
                    for c in 0..<channels {
                        let low = max(0, c - before)
                        let high = min(channels - 1, c + after)
                        let s = x.f32 + (n * channels + c) * plane
                        let d = out.f32 + (n * channels + c) * plane
                        for p in 0..<plane {
                            var sum: Float = 0
                            for k in low...high {
                                let v = x.f32[(n * channels + k) * plane + p]
                                sum += v * v
                            }
                            d[p] = s[p] / Foundation.pow(bias + scale * sum, beta)
                        }
                    }
                }
                return [out]
            }
        }
    ]
}
