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
            // As in ONNX Runtime: a pad as large as the window would give windows that see only padding.
            for i in 0..<3 where g.padBegin[i] >= g.kernel[i] || g.padEnd[i] >= g.kernel[i] {
                throw context.error(
                    .invalidInput, "pads \(g.padBegin.suffix(g.rank) + g.padEnd.suffix(g.rank)) must be smaller than kernel_shape \(kernel)")
            }
            let out = try context.allocate(.f32, Array(x.shape.prefix(2)) + g.outputShape)
            let planes = x.shape[0] * x.shape[1]
            let src = SharedPointer(x.f32)
            let dst = SharedPointer(out.f32)
            if isMax && insideOnly2D(g) {
                let (inH, inW, outH, outW) = (g.input[1], g.input[2], g.output[1], g.output[2])
                let (kH, kW, sH, sW) = (g.kernel[1], g.kernel[2], g.stride[1], g.stride[2])
                parallelChunks(planes, threads: context.threads, grain: Swift.max(1, (1 << 15) / Swift.max(1, g.inputSize))) { range in
                    let input = src.pointer + range.lowerBound * g.inputSize
                    let output = dst.pointer + range.lowerBound * g.outputSize
                    if kH == 2 && kW == 2 && sH == 2 && sW == 2 {
                        maxPool2x2(input, output, planes: range.count, inH: inH, inW: inW, outH: outH, outW: outW)
                    } else {
                        maxPoolInside(
                            input, output, planes: range.count, inH: inH, inW: inW, outH: outH, outW: outW, kH: kH, kW: kW,
                            sH: sH, sW: sW)
                    }
                }
                return [out]
            }
            let columns = ColumnPlan(g)
            parallelChunks(planes, threads: context.threads, grain: Swift.max(1, (1 << 14) / Swift.max(1, g.inputSize))) { range in
                for plane in range {
                    poolPlane(
                        src.pointer + plane * g.inputSize, dst.pointer + plane * g.outputSize, geometry: g, columns: columns,
                        max: isMax, includePad: includePad)
                }
            }
            return [out]
        }
    }

    /// Per-kernel-column ranges of output columns whose tap lands inside the input, and per-output-column
    /// counts of valid and padded taps: computed once per call so the row loops are plain strided sweeps.
    struct ColumnPlan: Sendable {
        var first: [Int] = []
        var end: [Int] = []
        var valid: [Int] = []
        var padded: [Int] = []

        init(_ g: SpatialGeometry) {
            let (inW, kW, sW, dW, pW) = (g.input[2], g.kernel[2], g.stride[2], g.dilation[2], g.padBegin[2])
            for kw in 0..<kW {
                let offset = kw * dW - pW
                var a = 0
                while a < g.output[2] && a * sW + offset < 0 { a += 1 }
                var b = g.output[2]
                while b > a && (b - 1) * sW + offset >= inW { b -= 1 }
                first.append(a)
                end.append(b)
            }
            for ow in 0..<g.output[2] {
                let (k0, k1) = windowRange(ow * sW - pW, kW, dW, inW)
                valid.append(k1 - k0)
                padded.append(insidePadded(ow * sW - pW, axis: 2, g))
            }
        }
    }

    private static func poolPlane(
        _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>, geometry g: SpatialGeometry,
        columns: ColumnPlan, max isMax: Bool, includePad: Bool
    ) {
        // Scalars in locals: the hot loops must not touch the geometry's arrays.
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        let (kD, kH, kW) = (g.kernel[0], g.kernel[1], g.kernel[2])
        let (sD, sH, sW) = (g.stride[0], g.stride[1], g.stride[2])
        let (dD, dH, dW) = (g.dilation[0], g.dilation[1], g.dilation[2])
        let (pD, pH, pW) = (g.padBegin[0], g.padBegin[1], g.padBegin[2])
        let outW = g.output[2]
        var row = output
        for od in 0..<g.output[0] {
            let startD = od * sD - pD
            let (d0, d1) = windowRange(startD, kD, dD, inD)
            for oh in 0..<g.output[1] {
                let startH = oh * sH - pH
                let (h0, h1) = windowRange(startH, kH, dH, inH)
                row.update(repeating: isMax ? -Float.infinity : 0, count: outW)
                for kd in d0..<d1 {
                    let plane = input + (startD + kd * dD) * inH * inW
                    for kh in h0..<h1 {
                        let line = plane + (startH + kh * dH) * inW
                        for kw in 0..<kW {
                            let taps = line + (kw * dW - pW)
                            if isMax {
                                maxSweep(row, taps, sW, columns.first[kw], columns.end[kw])
                            } else {
                                sumSweep(row, taps, sW, columns.first[kw], columns.end[kw])
                            }
                        }
                    }
                }
                if !isMax {
                    let outer = includePad
                        ? insidePadded(startD, axis: 0, g) * insidePadded(startH, axis: 1, g) : (d1 - d0) * (h1 - h0)
                    for ow in 0..<outW {
                        let divisor = outer * (includePad ? columns.padded[ow] : columns.valid[ow])
                        row[ow] = divisor > 0 ? row[ow] / Float(divisor) : 0
                    }
                }
                row += outW
            }
        }
    }

    /// Whether every window of a 2-D pooling lies inside the input with no dilation (no padding taps), so the
    /// plane loops need no bounds.
    private static func insideOnly2D(_ g: SpatialGeometry) -> Bool {
        g.input[0] == 1 && g.kernel[0] == 1 && g.output[0] == 1 && g.dilation == [1, 1, 1]
            && g.padBegin == [0, 0, 0] && g.padEnd == [0, 0, 0]
            && (g.output[1] - 1) * g.stride[1] + g.kernel[1] <= g.input[1]
            && (g.output[2] - 1) * g.stride[2] + g.kernel[2] <= g.input[2]
    }

    /// Max over windows fully inside the input, taps in the same order (and NaN handling) as `poolPlane`.
    private static func maxPoolInside(
        _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>, planes: Int, inH: Int, inW: Int,
        outH: Int, outW: Int, kH: Int, kW: Int, sH: Int, sW: Int
    ) {
        var dst = output
        for plane in 0..<planes {
            let src = input + plane &* inH &* inW
            for oh in 0..<outH {
                let top = src + oh &* sH &* inW
                for ow in 0..<outW {
                    var v = -Float.infinity
                    var line = top + ow &* sW
                    for _ in 0..<kH {
                        for kw in 0..<kW {
                            let t = line[kw]
                            v = t > v ? t : v
                        }
                        line += inW
                    }
                    dst[ow] = v
                }
                dst += outW
            }
        }
    }

    /// `maxPoolInside` for 2×2 windows with stride 2.
    private static func maxPool2x2(
        _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>, planes: Int, inH: Int, inW: Int,
        outH: Int, outW: Int
    ) {
        var dst = output
        for plane in 0..<planes {
            let src = input + plane &* inH &* inW
            for oh in 0..<outH {
                let top = src + 2 &* oh &* inW
                let bottom = top + inW
                var ow = 0
                while ow < outW {
                    let i = 2 &* ow
                    var v = -Float.infinity
                    v = top[i] > v ? top[i] : v
                    v = top[i &+ 1] > v ? top[i &+ 1] : v
                    v = bottom[i] > v ? bottom[i] : v
                    v = bottom[i &+ 1] > v ? bottom[i &+ 1] : v
                    dst[ow] = v
                    ow &+= 1
                }
                dst += outW
            }
        }
    }

    @inline(__always)
    private static func maxSweep(_ row: UnsafeMutablePointer<Float>, _ taps: UnsafeMutablePointer<Float>, _ stride: Int, _ a: Int, _ b: Int) {
        if stride == 1 {
            for ow in a..<b { row[ow] = taps[ow] > row[ow] ? taps[ow] : row[ow] }
        } else {
            for ow in a..<b {
                let v = taps[ow &* stride]
                row[ow] = v > row[ow] ? v : row[ow]
            }
        }
    }

    @inline(__always)
    private static func sumSweep(_ row: UnsafeMutablePointer<Float>, _ taps: UnsafeMutablePointer<Float>, _ stride: Int, _ a: Int, _ b: Int) {
        if stride == 1 {
            for ow in a..<b { row[ow] += taps[ow] }
        } else {
            for ow in a..<b { row[ow] += taps[ow &* stride] }
        }
    }

    /// The kernel taps `k0..<k1` of a window starting at `start` that land inside `0..<extent`.
    @inline(__always)
    private static func windowRange(_ start: Int, _ kernel: Int, _ dilation: Int, _ extent: Int) -> (Int, Int) {
        var k0 = 0
        while k0 < kernel && start + k0 * dilation < 0 { k0 += 1 }
        var k1 = kernel
        while k1 > k0 && start + (k1 - 1) * dilation >= extent { k1 -= 1 }
        return (k0, k1)
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
        // [N, C, 0] holds nothing but its N×C output can be huge: allocate through the budget.
        let out = try context.allocate(.f32, Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2))
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
