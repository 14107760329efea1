import PruneCore

/// ConvTranspose (1-D to 3-D): group, strides, pads, dilations, output_padding, output_shape and auto_pad, as one
/// `sgemm` per image and group (`Wᵀ · X` into columns) followed by a col2im scatter-add into the output.
enum ConvTransposeOps {
    static let factories: [String: KernelFactory] = ["ConvTranspose": convTranspose]

    struct Settings: Sendable {
        let kernelShape: [Int]?
        let strides: [Int]?
        let dilations: [Int]?
        let pads: [Int]?
        let outputPadding: [Int]?
        let outputShape: [Int]?
        let autoPad: String
        let group: Int

        init(_ node: GraphNode) throws {
            kernelShape = try node.ints("kernel_shape")
            strides = try node.ints("strides")
            dilations = try node.ints("dilations")
            pads = try node.ints("pads")
            outputPadding = try node.ints("output_padding")
            outputShape = try node.ints("output_shape")
            autoPad = try node.string("auto_pad", default: "NOTSET")
            group = try node.int("group", default: 1)
            guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
                throw node.error(.unsupported, "auto_pad='\(autoPad)' is not supported")
            }
            guard group >= 1 else { throw node.error(.invalidInput, "group must be positive") }
        }
    }

    private static let convTranspose: KernelFactory = { node, _ in
        let settings = try Settings(node)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let w = try context.input(inputs, 1)
            let bias = inputs.count > 2 ? inputs[2] : nil
            return [try run(x: x, w: w, bias: bias, settings, context)]
        }
    }

    /// Per spatial axis (padded to three, leading axes of extent 1): input, kernel, stride, dilation, leading pad,
    /// output.
    struct Geometry {
        var input = [1, 1, 1], kernel = [1, 1, 1], stride = [1, 1, 1], dilation = [1, 1, 1]
        var padBegin = [0, 0, 0], output = [1, 1, 1]
    }

    static func geometry(
        spatial: [Int], kernel: [Int], _ s: Settings, _ context: KernelContext
    ) throws -> (Geometry, [Int]) {
        let rank = spatial.count
        func list(_ values: [Int]?, _ name: String, _ fallback: Int, _ count: Int) throws -> [Int] {
            guard let values else { return Array(repeating: fallback, count: count) }
            guard values.count == count else {
                throw context.error(.invalidInput, "attribute \(name) has \(values.count) values, expected \(count)")
            }
            return values
        }
        let strides = try list(s.strides, "strides", 1, rank)
        let dilations = try list(s.dilations, "dilations", 1, rank)
        let pads = try list(s.pads, "pads", 0, 2 * rank)
        let adjust = try list(s.outputPadding, "output_padding", 0, rank)
        var outputShape = s.outputShape
        if let shape = outputShape, shape.count == rank + 2 { outputShape = Array(shape.dropFirst(2)) }
        if let shape = outputShape, shape.count != rank {
            throw context.error(.invalidInput, "output_shape has \(shape.count) values for \(rank) spatial axes")
        }
        var g = Geometry()
        var outSpatial: [Int] = []
        for i in 0..<rank {
            let o = 3 - rank + i
            g.input[o] = spatial[i]
            g.kernel[o] = kernel[i]
            g.stride[o] = strides[i]
            g.dilation[o] = dilations[i]
            guard strides[i] > 0, dilations[i] > 0, kernel[i] > 0 else {
                throw context.error(.invalidInput, "kernel, strides and dilations must be positive")
            }
            // stride·(in − 1) + output_padding + (k − 1)·dilation + 1, overflow-checked.
            let span = try CheckedSize.add(try CheckedSize.multiply(kernel[i] - 1, dilations[i], context), 1, context)
            let full = try CheckedSize.add(
                try CheckedSize.add(try CheckedSize.multiply(strides[i], spatial[i] - 1, context), adjust[i], context),
                span, context)
            let out: Int
            if s.autoPad == "SAME_UPPER" || s.autoPad == "SAME_LOWER" {
                out = try CheckedSize.multiply(spatial[i], strides[i], context)
                let total = max(0, full - out)
                g.padBegin[o] = s.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            } else if let shape = outputShape {
                out = shape[i]
                // As ONNX specifies and ONNX Runtime does: the odd unit of padding goes first unless SAME_UPPER.
                let total = max(0, full - out)
                g.padBegin[o] = s.autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
            } else if s.autoPad == "VALID" {
                out = full
            } else {
                out = full - pads[i] - pads[rank + i]
                g.padBegin[o] = pads[i]
            }
            guard out >= 0 else { throw context.error(.invalidInput, "output extent along axis \(i) is \(out)") }
            g.output[o] = out
            outSpatial.append(out)
        }
        return (g, outSpatial)
    }

    static func run(
        x: RuntimeTensor, w: RuntimeTensor, bias: RuntimeTensor?, _ s: Settings, _ context: KernelContext
    ) throws -> RuntimeTensor {
        try context.require(x, [.f32], "input 0 (X)")
        try context.require(w, [.f32], "input 1 (W)")
        guard x.shape.count >= 3, x.shape.count <= 5, w.shape.count == x.shape.count else {
            throw context.error(.unsupported, "X of shape \(x.shape) with W of shape \(w.shape) is not supported (1-D to 3-D)")
        }
        let batch = x.shape[0]
        let channels = x.shape[1]
        let group = s.group
        guard w.shape[0] == channels, channels % group == 0 else {
            throw context.error(.shapeMismatch, "W has \(w.shape[0]) input channels, X has \(channels) (group \(group))")
        }
        let kernel = Array(w.shape.dropFirst(2))
        if let k = s.kernelShape, k != kernel {
            throw context.error(.shapeMismatch, "kernel_shape \(k) does not match W's shape \(w.shape)")
        }
        let perGroupOut = w.shape[1]
        let outChannels = try CheckedSize.multiply(perGroupOut, group, context)
        let (g, outSpatial) = try geometry(spatial: Array(x.shape.dropFirst(2)), kernel: kernel, s, context)
        if let bias {
            try context.require(bias, [.f32], "input 2 (B)")
            guard bias.count == outChannels else {
                throw context.error(.shapeMismatch, "B has \(bias.count) values for \(outChannels) output channels")
            }
        }
        let out = try CheckedSize.tensor(.f32, [batch, outChannels] + outSpatial, context)
        let inSize = g.input[0] * g.input[1] * g.input[2]
        let outSize = g.output[0] * g.output[1] * g.output[2]
        let kernelSize = g.kernel[0] * g.kernel[1] * g.kernel[2]
        let inPerGroup = channels / group
        let rows = try CheckedSize.multiply(perGroupOut, kernelSize, context)
        let columns = try CheckedSize.tensor(.f32, [rows, inSize], context)
        let o = out.f32
        // Start from the bias (or zero); the scatter adds into it.
        for c in 0..<(batch * outChannels) {
            let value = bias.map { $0.f32[c % outChannels] } ?? 0
            (o + c * outSize).update(repeating: value, count: outSize)
        }
        if out.count == 0 || inSize == 0 { return out }
        for n in 0..<batch {
            for gi in 0..<group {
                // columns[(m, k), p] = Σ_c W[c, m, k] · X[n, c, p] over the group's input channels.
                BLAS.sgemm(
                    transA: true, m: rows, n: inSize, k: inPerGroup,
                    a: w.f32 + gi * inPerGroup * rows, lda: rows,
                    b: x.f32 + (n * channels + gi * inPerGroup) * inSize, ldb: inSize,
                    c: columns.f32, ldc: inSize)
                let target = o + (n * outChannels + gi * perGroupOut) * outSize
                col2im(columns.f32, g, channels: perGroupOut, into: target)
            }
        }
        return out
    }

    /// Adds each column entry to the output position its input position and kernel offset reach.
    private static func col2im(_ columns: UnsafeMutablePointer<Float>, _ g: Geometry, channels: Int, into out: UnsafeMutablePointer<Float>) {
        let inSize = g.input[0] * g.input[1] * g.input[2]
        let outSize = g.output[0] * g.output[1] * g.output[2]
        var row = 0
        for c in 0..<channels {
            let plane = out + c * outSize
            for k0 in 0..<g.kernel[0] {
                for k1 in 0..<g.kernel[1] {
                    for k2 in 0..<g.kernel[2] {
                        let column = columns + row * inSize
                        row += 1
                        for i0 in 0..<g.input[0] {
                            let y0 = i0 * g.stride[0] - g.padBegin[0] + k0 * g.dilation[0]
                            if y0 < 0 || y0 >= g.output[0] { continue }
                            for i1 in 0..<g.input[1] {
                                let y1 = i1 * g.stride[1] - g.padBegin[1] + k1 * g.dilation[1]
                                if y1 < 0 || y1 >= g.output[1] { continue }
                                let source = column + (i0 * g.input[1] + i1) * g.input[2]
                                let line = plane + (y0 * g.output[1] + y1) * g.output[2]
                                let offset = k2 * g.dilation[2] - g.padBegin[2]
                                let stride = g.stride[2]
                                let limit = g.output[2]
                                for i2 in 0..<g.input[2] {
                                    let y2 = i2 &* stride &+ offset
                                    if y2 >= 0 && y2 < limit { line[y2] += source[i2] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
