import PruneCore

/// MaxPool, AveragePool (pads, auto_pad, strides, dilations, ceil_mode, count_include_pad) and the global pools.
enum PoolingOps {
    static let factories: [String: KernelFactory] = [
        "MaxPool": { node, _ in try pool(node, max: true) },
        "AveragePool": { node, _ in try pool(node, max: false) },
        "GlobalAveragePool": { _, _ in ClosureKernel { try global($0, $1, max: false) } },
        "GlobalMaxPool": { _, _ in ClosureKernel { try global($0, $1, max: true) } },
    ]

    private static func pool(_ node: GraphNode, max isMax: Bool) throws -> any Kernel {
        let attributes = try SpatialGeometry.Attributes(node)
        guard let kernel = attributes.kernelShape else { throw node.error(.invalidInput, "attribute kernel_shape is missing") }
        if isMax, node.outputs.count > 1, !node.outputs[1].isEmpty {
            throw node.error(.unsupported, "the Indices output of MaxPool is not supported")
        }
        let includePad = try node.int("count_include_pad", default: 0) != 0
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32], "input 0 (X)")
            guard x.shape.count == kernel.count + 2 else {
                throw context.error(.shapeMismatch, "X \(x.shape) does not match kernel_shape \(kernel)")
            }
            let g = try SpatialGeometry(
                spatial: Array(x.shape.dropFirst(2)), kernel: kernel, attributes: attributes, context: context)
            let planes = x.shape[0] * x.shape[1]
            let out = RuntimeTensor(uninitialized: .f32, shape: Array(x.shape.prefix(2)) + g.outputShape)
            let src = SharedPointer(x.f32)
            let dst = SharedPointer(out.f32)
            parallelChunks(planes, threads: context.threads, grain: Swift.max(1, (1 << 14) / Swift.max(1, g.inputSize))) { range in
                for plane in range {
                    poolPlane(
                        src.pointer + plane * g.inputSize, dst.pointer + plane * g.outputSize, geometry: g, max: isMax,
                        includePad: includePad)
                }
            }
            return [out]
        }
    }

    private static func poolPlane(
        _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>, geometry g: SpatialGeometry,
        max isMax: Bool, includePad: Bool
    ) {
        var o = 0
        for od in 0..<g.output[0] {
            for oh in 0..<g.output[1] {
                for ow in 0..<g.output[2] {
                    let start = (od * g.stride[0] - g.padBegin[0], oh * g.stride[1] - g.padBegin[1], ow * g.stride[2] - g.padBegin[2])
                    var best = -Float.infinity
                    var sum: Float = 0
                    var valid = 0
                    var padded = 1
                    if includePad {
                        padded = insidePadded(start.0, axis: 0, g) * insidePadded(start.1, axis: 1, g) * insidePadded(start.2, axis: 2, g)
                    }
                    for kd in 0..<g.kernel[0] {
                        let id = start.0 + kd * g.dilation[0]
                        if id < 0 || id >= g.input[0] { continue }
                        for kh in 0..<g.kernel[1] {
                            let ih = start.1 + kh * g.dilation[1]
                            if ih < 0 || ih >= g.input[1] { continue }
                            let line = input + (id * g.input[1] + ih) * g.input[2]
                            for kw in 0..<g.kernel[2] {
                                let iw = start.2 + kw * g.dilation[2]
                                if iw < 0 || iw >= g.input[2] { continue }
                                let v = line[iw]
                                best = Swift.max(best, v)
                                sum += v
                                valid += 1
                            }
                        }
                    }
                    if isMax {
                        output[o] = best
                    } else {
                        let divisor = includePad ? padded : valid
                        output[o] = divisor > 0 ? sum / Float(divisor) : 0
                    }
                    o += 1
                }
            }
        }
    }

    /// Window positions along `axis` that lie inside the padded input (the count_include_pad divisor).
    @inline(__always)
    private static func insidePadded(_ start: Int, axis: Int, _ g: SpatialGeometry) -> Int {
        var inside = 0
        for k in 0..<g.kernel[axis] {
            let i = start + k * g.dilation[axis]
            if i >= -g.padBegin[axis] && i < g.input[axis] + g.padEnd[axis] { inside += 1 }
        }
        return inside
    }

    private static func global(_ inputs: [RuntimeTensor?], _ context: KernelContext, max isMax: Bool) throws -> [RuntimeTensor] {
        let x = try context.input(inputs, 0)
        try context.require(x, [.f32], "input 0 (X)")
        guard x.shape.count >= 2 else { throw context.error(.shapeMismatch, "X \(x.shape) needs N×C×spatial") }
        let planes = x.shape[0] * x.shape[1]
        let size = x.shape.dropFirst(2).reduce(1, *)
        let out = RuntimeTensor(
            uninitialized: .f32, shape: Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2))
        for plane in 0..<planes {
            let p = x.f32 + plane * size
            if isMax {
                var best = -Float.infinity
                for i in 0..<size { best = Swift.max(best, p[i]) }
                out.f32[plane] = best
            } else {
                var sum: Double = 0
                for i in 0..<size { sum += Double(p[i]) }
                out.f32[plane] = Float(sum / Double(Swift.max(size, 1)))
            }
        }
        return [out]
    }
}
