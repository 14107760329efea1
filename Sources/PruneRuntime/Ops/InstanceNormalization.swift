import PruneCore

/// InstanceNormalization (float32): each (image, channel) plane normalised by its own mean and variance, then
/// scaled and shifted per channel.
enum InstanceNormalizationOps {
    static let factories: [String: KernelFactory] = [
        "InstanceNormalization": { node, _ in
            let epsilon = try node.float("epsilon", default: 1e-5)
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                let scale = try context.input(inputs, 1)
                let bias = try context.input(inputs, 2)
                for (t, name) in [(x, "input"), (scale, "scale"), (bias, "B")] { try context.require(t, [.f32], name) }
                guard x.shape.count >= 2, scale.count == x.shape[1], bias.count == x.shape[1] else {
                    throw context.error(.shapeMismatch, "input \(x.shape), scale \(scale.shape), B \(bias.shape) do not fit")
                }
                let channels = x.shape[1]
                let plane = x.shape.dropFirst(2).reduce(1, *)
                let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
                for p in 0..<(x.shape[0] * channels) {
                    let s = x.f32 + p * plane
                    let d = out.f32 + p * plane
                    var sum: Double = 0
                    for i in 0..<plane { sum += Double(s[i]) }
                    let mean = sum / Double(max(plane, 1))
                    var squares: Double = 0
                    for i in 0..<plane { let v = Double(s[i]) - mean; squares += v * v }
                    let variance = squares / Double(max(plane, 1))
                    let c = p % channels
                    let factor = Float(Double(scale.f32[c]) / (variance + Double(epsilon)).squareRoot())
                    let shift = bias.f32[c] - Float(mean) * factor
                    for i in 0..<plane { d[i] = s[i] * factor + shift }
                }
                return [out]
            }
        }
    ]
}
