import Dispatch
import PruneCore

/// Conv (1-D to 3-D, groups, strides, dilations, pads, auto_pad): im2col plus one `sgemm` per group.
enum ConvOps {
    static let factories: [String: KernelFactory] = ["Conv": conv]

    private static let conv: KernelFactory = { node, _ in
        let attributes = try SpatialGeometry.Attributes(node)
        let group = try node.int("group", default: 1)
        guard group >= 1 else { throw node.error(.invalidInput, "group must be positive") }
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let w = try context.input(inputs, 1)
            try context.require(x, [.f32], "input 0 (X)")
            try context.require(w, [.f32], "input 1 (W)")
            guard x.shape.count >= 3, w.shape.count == x.shape.count else {
                throw context.error(.shapeMismatch, "X \(x.shape) and W \(w.shape) must be N×C×spatial with equal ranks")
            }
            let batch = x.shape[0]
            let channels = x.shape[1]
            let filters = w.shape[0]
            let groupChannels = w.shape[1]
            guard channels == groupChannels * group, filters % group == 0 else {
                throw context.error(
                    .shapeMismatch, "X has \(channels) channels but W \(w.shape) with group=\(group) expects \(groupChannels * group)")
            }
            let kernel = Array(w.shape.dropFirst(2))
            if let declared = attributes.kernelShape, declared != kernel {
                throw context.error(.shapeMismatch, "kernel_shape \(declared) disagrees with W \(w.shape)")
            }
            let geometry = try SpatialGeometry(
                spatial: Array(x.shape.dropFirst(2)), kernel: kernel, attributes: attributes, context: context)
            var bias: RuntimeTensor?
            if inputs.count > 2, let b = inputs[2] {
                try context.require(b, [.f32], "input 2 (B)")
                guard b.count == filters else { throw context.error(.shapeMismatch, "B has \(b.count) values for \(filters) filters") }
                bias = b
            }
            let out = RuntimeTensor(uninitialized: .f32, shape: [batch, filters] + geometry.outputShape)
            convolve(
                x: x.f32, w: w.f32, bias: bias?.f32, out: out.f32, batch: batch, channels: channels, filters: filters,
                group: group, geometry: geometry, threads: context.threads)
            return [out]
        }
    }

    static func convolve(
        x: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?,
        out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int, group: Int, geometry g: SpatialGeometry,
        threads: Int
    ) {
        let cg = channels / group
        let mg = filters / group
        let kernelSize = g.kernelSize
        let rows = cg * kernelSize
        let columns = g.outputSize
        let pointwise =
            kernelSize == 1 && g.stride == [1, 1, 1] && g.padBegin == [0, 0, 0] && g.padEnd == [0, 0, 0]
        let scratch = pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: max(rows * columns, 1))
        defer { scratch?.deallocate() }
        for n in 0..<batch {
            for gi in 0..<group {
                let input = x + (n * channels + gi * cg) * g.inputSize
                let matrix: UnsafeMutablePointer<Float>
                if let scratch {
                    im2col(input, channels: cg, geometry: g, into: scratch, threads: threads)
                    matrix = scratch
                } else {
                    matrix = input
                }
                BLAS.sgemm(
                    m: mg, n: columns, k: rows, a: w + gi * mg * rows, lda: rows, b: matrix, ldb: columns,
                    c: out + (n * filters + gi * mg) * columns, ldc: columns)
            }
            if let bias {
                for m in 0..<filters {
                    let row = out + (n * filters + m) * columns
                    let value = bias[m]
                    for p in 0..<columns { row[p] += value }
                }
            }
        }
    }

    /// Unfolds the windows of one group's input (`channels × D×H×W`) into rows `(c, kd, kh, kw)` × columns
    /// `(od, oh, ow)`, writing zeros where windows overlap padding.
    static func im2col(
        _ input: UnsafeMutablePointer<Float>, channels: Int, geometry g: SpatialGeometry,
        into col: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let rows = channels * g.kernelSize
        let source = SharedPointer(input)
        let destination = SharedPointer(col)
        let work = rows * g.outputSize
        let chunks = work >= 1 << 16 ? min(threads, rows) : 1
        let body: @Sendable (Int) -> Void = { chunk in
            let start = rows * chunk / chunks
            let end = rows * (chunk + 1) / chunks
            for row in start..<end { im2colRow(source.pointer, row: row, geometry: g, into: destination.pointer) }
        }
        if chunks <= 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: chunks, execute: body) }
    }

    @inline(__always)
    private static func im2colRow(
        _ input: UnsafeMutablePointer<Float>, row: Int, geometry g: SpatialGeometry, into col: UnsafeMutablePointer<Float>
    ) {
        let kw = row % g.kernel[2]
        let kh = (row / g.kernel[2]) % g.kernel[1]
        let kd = (row / (g.kernel[2] * g.kernel[1])) % g.kernel[0]
        let c = row / g.kernelSize
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        let strideW = g.stride[2]
        let plane = input + c * g.inputSize
        var dst = col + row * g.outputSize
        let wOffset = kw * g.dilation[2] - g.padBegin[2]
        // Range of ow whose input column lies inside [0, inW).
        var owStart = 0
        while owStart < outW && owStart * strideW + wOffset < 0 { owStart += 1 }
        var owEnd = outW
        while owEnd > owStart && (owEnd - 1) * strideW + wOffset >= inW { owEnd -= 1 }
        for od in 0..<outD {
            let id = od * g.stride[0] - g.padBegin[0] + kd * g.dilation[0]
            for oh in 0..<outH {
                let ih = oh * g.stride[1] - g.padBegin[1] + kh * g.dilation[1]
                if id < 0 || id >= inD || ih < 0 || ih >= inH {
                    dst.update(repeating: 0, count: outW)
                } else {
                    let line = plane + (id * inH + ih) * inW + wOffset
                    for ow in 0..<owStart { dst[ow] = 0 }
                    if strideW == 1 {
                        (dst + owStart).update(from: line + owStart, count: owEnd - owStart)
                    } else {
                        var ow = owStart
                        while ow < owEnd {
                            dst[ow] = line[ow &* strideW]
                            ow &+= 1
                        }
                    }
                    for ow in owEnd..<outW { dst[ow] = 0 }
                }
                dst += outW
            }
        }
    }
}
