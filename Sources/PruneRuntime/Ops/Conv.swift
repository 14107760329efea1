import PruneCore

/// Conv (1-D to 3-D, groups, strides, dilations, pads, auto_pad): im2col plus one `sgemm` per group, or the panel
/// kernels (`ConvPanels.swift`) for stride-1 "same" convolutions on CPUs with AVX2 and FMA.
enum ConvOps {
    static let factories: [String: KernelFactory] = ["Conv": conv]

    /// A Conv node's attributes, parsed and checked when the interpreter is built.
    struct Settings: Sendable {
        let attributes: SpatialGeometry.Attributes
        let group: Int
        /// The node's packed filters and masks for the panel kernels, kept between runs.
        let panelCache = PanelCache()

        init(_ node: GraphNode) throws {
            attributes = try SpatialGeometry.Attributes(node)
            group = try node.int("group", default: 1)
            guard group >= 1 else { throw node.error(.invalidInput, "group must be positive") }
        }
    }

    private static let conv: KernelFactory = { node, _ in
        let settings = try Settings(node)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let w = try context.input(inputs, 1)
            return [try run(x: x, w: w, bias: inputs.count > 2 ? inputs[2] : nil, settings, context, relu: false)]
        }
    }

    /// Checks shapes and dtypes and convolves; with `relu`, negative outputs are clamped to 0 as they are written
    /// (the fused Conv+BatchNormalization+Relu path).
    static func run(
        x: RuntimeTensor, w: RuntimeTensor, bias b: RuntimeTensor?, _ settings: Settings, _ context: KernelContext,
        relu: Bool
    ) throws -> RuntimeTensor {
        let group = settings.group
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
        if let declared = settings.attributes.kernelShape, declared != kernel {
            throw context.error(.shapeMismatch, "kernel_shape \(declared) disagrees with W \(w.shape)")
        }
        let geometry = try SpatialGeometry(
            spatial: Array(x.shape.dropFirst(2)), kernel: kernel, attributes: settings.attributes, context: context)
        var bias: RuntimeTensor?
        if let b {
            try context.require(b, [.f32], "input 2 (B)")
            guard b.count == filters else { throw context.error(.shapeMismatch, "B has \(b.count) values for \(filters) filters") }
            bias = b
        }
        let out = try context.allocate(.f32, [batch, filters] + geometry.outputShape)
        if panelsApply(geometry, channelsPerGroup: groupChannels) {
            convolvePanels(
                x: x.f32, w: w, bias: bias?.f32, out: out.f32, batch: batch, channels: channels, filters: filters,
                group: group, geometry: geometry, threads: context.threads, relu: relu, cache: settings.panelCache)
            return out
        }
        convolve(
            x: x.f32, w: w.f32, bias: bias?.f32, out: out.f32, batch: batch, channels: channels, filters: filters,
            group: group, geometry: geometry, threads: context.threads, relu: relu)
        return out
    }

    /// Floats of unfolded input per `sgemm`: images are unfolded side by side until this is reached, so small
    /// images share one large product per group instead of one tiny product each.
    static let columnBudget = 1 << 17

    static func convolve(
        x: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?,
        out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int, group: Int, geometry g: SpatialGeometry,
        threads: Int, relu: Bool = false
    ) {
        let cg = channels / group
        let mg = filters / group
        let kernelSize = g.kernelSize
        let rows = cg * kernelSize
        let columns = g.outputSize
        let pointwise =
            kernelSize == 1 && g.stride == [1, 1, 1] && g.padBegin == [0, 0, 0] && g.padEnd == [0, 0, 0]
        let perImage = max(rows * columns, 1)
        let imagesPerProduct = min(batch, max(1, columnBudget / perImage))
        // Stride 1 with the output as large as the input ("same" padding) unfolds fastest through the stacked
        // path (`im2colStacked`), worth taking for a single small image too.
        let same = g.stride == [1, 1, 1] && g.output == g.input && g.dilation == [1, 1, 1]
        if imagesPerProduct > 1 || (same && perImage <= columnBudget) {
            convolveBatched(
                x: x, w: w, bias: bias, out: out, batch: batch, channels: channels, filters: filters, group: group,
                geometry: g, images: imagesPerProduct, threads: threads, relu: relu)
            return
        }
        let scratch = pointwise ? nil : UnsafeMutablePointer<Float>.allocate(capacity: perImage)
        defer { scratch?.deallocate() }
        for n in 0..<batch {
            for gi in 0..<group {
                let input = x + (n * channels + gi * cg) * g.inputSize
                let matrix: UnsafeMutablePointer<Float>
                if let scratch {
                    im2col(input, imageStride: 0, images: 1, channels: cg, geometry: g, into: scratch, threads: threads)
                    matrix = scratch
                } else {
                    matrix = input
                }
                BLAS.sgemmSplittingRows(
                    threads: threads, m: mg, n: columns, k: rows, a: w + gi * mg * rows, lda: rows, b: matrix,
                    ldb: columns, c: out + (n * filters + gi * mg) * columns, ldc: columns)
            }
            if relu {
                for m in 0..<filters { addConstantRelu(out + (n * filters + m) * columns, columns, bias?[m] ?? 0) }
            } else if let bias {
                for m in 0..<filters { addConstant(out + (n * filters + m) * columns, columns, bias[m]) }
            }
        }
    }

    /// Unfolds `images` images at a time into one `rows × (images·columns)` matrix per group, multiplies it by
    /// the group's filters in one `sgemm`, then copies each image's block into NCHW order, adding the bias.
    private static func convolveBatched(
        x: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?,
        out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int, group: Int, geometry g: SpatialGeometry,
        images: Int, threads: Int, relu: Bool
    ) {
        let cg = channels / group
        let mg = filters / group
        let rows = cg * g.kernelSize
        let columns = g.outputSize
        // Scratch as tensors, so a running interpreter recycles it from its buffer pool instead of faulting in
        // fresh pages every call.
        let colStorage = RuntimeTensor(uninitialized: .f32, shape: [rows * images * columns])
        let productStorage = RuntimeTensor(uninitialized: .f32, shape: [mg * images * columns])
        defer { withExtendedLifetime((colStorage, productStorage)) {} }
        let col = colStorage.f32
        let product = productStorage.f32
        // Stride 1 with the output as large as the input ("same" padding): each row of the unfolded matrix is
        // the group's channel planes, stacked image after image, shifted by one offset and masked at the padding.
        let same = g.stride == [1, 1, 1] && g.output == g.input && g.dilation == [1, 1, 1]
        let masks = same ? paddingMasks(g) : nil
        defer { masks?.deallocate() }
        let stacked = same ? UnsafeMutablePointer<UInt32>.allocate(capacity: cg * images * columns) : nil
        defer { stacked?.deallocate() }
        var n0 = 0
        while n0 < batch {
            let count = min(images, batch - n0)
            let width = count * columns
            for gi in 0..<group {
                if let masks, let stacked {
                    for c in 0..<cg {
                        for i in 0..<count {
                            UnsafeMutableRawPointer(stacked + (c * count + i) * columns).copyMemory(
                                from: x + ((n0 + i) * channels + gi * cg + c) * columns,
                                byteCount: columns * MemoryLayout<Float>.size)
                        }
                    }
                    im2colStacked(stacked, images: count, channels: cg, geometry: g, masks: masks, into: col, threads: threads)
                } else {
                    im2col(
                        x + (n0 * channels + gi * cg) * g.inputSize, imageStride: channels * g.inputSize, images: count,
                        channels: cg, geometry: g, into: col, threads: threads)
                }
                // The product starts as the bias and sgemm adds to it (beta 1): OpenBLAS would otherwise clear it
                // in a separate pass (~6 % of the digits CNN's batch-256 profile), and the copy back needs no add.
                for m in 0..<mg {
                    (product + m * width).update(repeating: bias.map { $0[gi * mg + m] } ?? 0, count: width)
                }
                BLAS.sgemmSplittingRows(
                    threads: threads, m: mg, n: width, k: rows, a: w + gi * mg * rows, lda: rows, b: col, ldb: width,
                    beta: 1, c: product, ldc: width)
                scatter(
                    product, images: count, filters: mg, columns: columns,
                    into: out + (n0 * filters + gi * mg) * columns, imageStride: filters * columns, threads: threads,
                    relu: relu)
            }
            n0 += count
        }
    }

    /// Per kernel offset `(kd, kh, kw)`, a `D×H×W` mask of all-ones bits where that tap lands inside the input,
    /// zero bits where it lands in padding (for stride 1, output size = input size).
    private static func paddingMasks(_ g: SpatialGeometry) -> UnsafeMutablePointer<UInt32> {
        let size = g.outputSize
        let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: g.kernelSize * size)
        var p = masks
        for kd in 0..<g.kernel[0] {
            for kh in 0..<g.kernel[1] {
                for kw in 0..<g.kernel[2] {
                    for od in 0..<g.output[0] {
                        let id = od + kd * g.dilation[0] - g.padBegin[0]
                        for oh in 0..<g.output[1] {
                            let ih = oh + kh * g.dilation[1] - g.padBegin[1]
                            for ow in 0..<g.output[2] {
                                let iw = ow + kw * g.dilation[2] - g.padBegin[2]
                                let inside = id >= 0 && id < g.input[0] && ih >= 0 && ih < g.input[1] && iw >= 0 && iw < g.input[2]
                                p.pointee = inside ? ~0 : 0
                                p += 1
                            }
                        }
                    }
                }
            }
        }
        return masks
    }

    /// im2col for stride 1 and output size = input size, from `channels × images × D×H×W` stacked planes: row
    /// `(c, k)` is channel `c`'s stack shifted by kernel offset `k`'s flat displacement, masked per image.
    private static func im2colStacked(
        _ stacked: UnsafeMutablePointer<UInt32>, images: Int, channels: Int, geometry g: SpatialGeometry,
        masks: UnsafeMutablePointer<UInt32>, into col: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let kernelSize = g.kernelSize
        let rows = channels * kernelSize
        let size = g.outputSize
        let total = images * size
        var shifts = [Int](repeating: 0, count: kernelSize)
        for k in 0..<kernelSize {
            let (kd, kh, kw) = (k / (g.kernel[1] * g.kernel[2]), (k / g.kernel[2]) % g.kernel[1], k % g.kernel[2])
            shifts[k] =
                ((kd * g.dilation[0] - g.padBegin[0]) * g.input[1] + kh * g.dilation[1] - g.padBegin[1]) * g.input[2]
                + kw * g.dilation[2] - g.padBegin[2]
        }
        let offsets = shifts
        let source = SharedPointer(stacked)
        // Bits are copied, so the matrix is written as UInt32 and handed to BLAS as Float afterwards.
        let destination = SharedPointer(
            UnsafeMutableRawPointer(col).bindMemory(to: UInt32.self, capacity: rows * total))
        defer { UnsafeMutableRawPointer(col).bindMemory(to: Float.self, capacity: rows * total) }
        let maskPointer = SharedPointer(masks)
        let chunks = rows * total >= 1 << 16 ? min(threads, rows) : 1
        let body: @Sendable (Int) -> Void = { chunk in
            let start = rows * chunk / chunks
            let end = rows * (chunk + 1) / chunks
            for row in start..<end {
                let c = row / kernelSize
                let k = row % kernelSize
                maskedShift(source.pointer + c * total, into: destination.pointer + row * total, mask: maskPointer.pointer + k * size, size: size, images: images, shift: offsets[k])
            }
        }
        parallelParts(chunks, threads: chunks) { chunk, _ in body(chunk) }
    }

    /// `dst[j] = src[j + shift] & mask[j mod size]` for `j` in `0..<images·size`, 0 where `j + shift` is outside
    /// (such positions are always masked). Bits, not floats, so a NaN or infinity next to the padding stays out.
    @inline(__always)
    private static func maskedShift(
        _ src: UnsafeMutablePointer<UInt32>, into dst: UnsafeMutablePointer<UInt32>, mask: UnsafeMutablePointer<UInt32>,
        size: Int, images: Int, shift: Int
    ) {
        let total = images &* size
        let low = max(0, -shift)
        let high = min(total, total &- shift)
        for image in 0..<images {
            let base = image &* size
            let from = src + (base &+ shift)
            let to = dst + base
            let start = min(size, max(0, low &- base))
            let end = max(start, min(size, high &- base))
            var p = 0
            while p < start {
                to[p] = 0
                p &+= 1
            }
            while p < end {
                to[p] = from[p] & mask[p]
                p &+= 1
            }
            while p < size {
                to[p] = 0
                p &+= 1
            }
        }
    }

    /// Copies `product` (`filters × (images·columns)`) to `images` blocks of `filters × columns`, `imageStride`
    /// apart; with `relu`, negative values become 0 on the way (NaN stays NaN, as in the Relu kernel).
    private static func scatter(
        _ product: UnsafeMutablePointer<Float>, images: Int, filters: Int, columns: Int,
        into out: UnsafeMutablePointer<Float>, imageStride: Int, threads: Int, relu: Bool
    ) {
        let source = SharedPointer(product)
        let destination = SharedPointer(out)
        let width = images * columns
        parallelChunks(filters, threads: threads, grain: max(1, (1 << 15) / max(width, 1))) { range in
            for m in range {
                let from = source.pointer + m * width
                for i in 0..<images {
                    if relu {
                        copyRelu(from + i * columns, destination.pointer + i * imageStride + m * columns, columns)
                    } else {
                        (destination.pointer + i * imageStride + m * columns).update(from: from + i * columns, count: columns)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func copyRelu(_ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i < n {
            let v = s[i]
            d[i] = v < 0 ? 0 : v
            i &+= 1
        }
    }

    @inline(__always)
    private static func addConstantRelu(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ value: Float) {
        var i = 0
        while i < n {
            let v = p[i] + value
            p[i] = v < 0 ? 0 : v
            i &+= 1
        }
    }

    @inline(__always)
    private static func addConstant(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ value: Float) {
        var i = 0
        while i < n {
            p[i] += value
            i &+= 1
        }
    }

    /// Unfolds the windows of one group's input (`channels × D×H×W`, for `images` images `imageStride` apart)
    /// into rows `(c, kd, kh, kw)` × columns `(image, od, oh, ow)`, writing zeros where windows overlap padding.
    static func im2col(
        _ input: UnsafeMutablePointer<Float>, imageStride: Int, images: Int, channels: Int, geometry g: SpatialGeometry,
        into col: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let rows = channels * g.kernelSize
        let source = SharedPointer(input)
        let destination = SharedPointer(col)
        let work = rows * g.outputSize * images
        let chunks = work >= 1 << 16 ? min(threads, rows) : 1
        let body: @Sendable (Int) -> Void = { chunk in
            let start = rows * chunk / chunks
            let end = rows * (chunk + 1) / chunks
            for row in start..<end {
                im2colRow(
                    source.pointer, imageStride: imageStride, images: images, row: row, geometry: g,
                    into: destination.pointer)
            }
        }
        parallelParts(chunks, threads: chunks) { chunk, _ in body(chunk) }
    }

    @inline(__always)
    private static func im2colRow(
        _ input: UnsafeMutablePointer<Float>, imageStride: Int, images: Int, row: Int, geometry g: SpatialGeometry,
        into col: UnsafeMutablePointer<Float>
    ) {
        let kw = row % g.kernel[2]
        let kh = (row / g.kernel[2]) % g.kernel[1]
        let kd = (row / (g.kernel[2] * g.kernel[1])) % g.kernel[0]
        let c = row / g.kernelSize
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        let (strideD, strideH, strideW) = (g.stride[0], g.stride[1], g.stride[2])
        let dOffset = kd * g.dilation[0] - g.padBegin[0]
        let hOffset = kh * g.dilation[1] - g.padBegin[1]
        let wOffset = kw * g.dilation[2] - g.padBegin[2]
        // Range of ow whose input column lies inside [0, inW).
        var owStart = 0
        while owStart < outW && owStart * strideW + wOffset < 0 { owStart += 1 }
        var owEnd = outW
        while owEnd > owStart && (owEnd - 1) * strideW + wOffset >= inW { owEnd -= 1 }
        var dst = col + row * images * g.outputSize
        if strideW == 1 && strideH == 1 && outW == inW {
            // Output rows have the input's pitch: each depth slice is one shifted contiguous copy, then the
            // columns that wrapped around from the neighbouring row are zeroed.
            let planeSize = outH * outW
            let ohStart = min(outH, max(0, -hOffset))
            let ohEnd = max(ohStart, min(outH, inH - hOffset))
            for image in 0..<images {
                let plane = input + image * imageStride + c * g.inputSize
                for od in 0..<outD {
                    let id = od * strideD + dOffset
                    if id < 0 || id >= inD {
                        dst.update(repeating: 0, count: planeSize)
                    } else {
                        shiftedPlane(
                            plane + id * inH * inW, into: dst, width: outW, height: outH, inputHeight: inH,
                            rows: ohStart..<ohEnd, columns: owStart..<owEnd, shift: hOffset * inW + wOffset)
                    }
                    dst += planeSize
                }
            }
            return
        }
        for image in 0..<images {
            let plane = input + image * imageStride + c * g.inputSize
            for od in 0..<outD {
                let id = od * strideD + dOffset
                for oh in 0..<outH {
                    let ih = oh * strideH + hOffset
                    if id < 0 || id >= inD || ih < 0 || ih >= inH {
                        dst.update(repeating: 0, count: outW)
                    } else {
                        copyLine(
                            plane + (id * inH + ih) * inW + wOffset, into: dst, stride: strideW, start: owStart, end: owEnd,
                            width: outW)
                    }
                    dst += outW
                }
            }
        }
    }

    /// `dst[i] = source[i + shift]` over the `rows` (each `width` long) of a `height × width` plane, with zeros in
    /// the other rows and, within `rows`, outside `columns`; `source` holds `inputHeight × width` values.
    @inline(__always)
    private static func shiftedPlane(
        _ source: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, width: Int, height: Int,
        inputHeight: Int, rows: Range<Int>, columns: Range<Int>, shift: Int
    ) {
        let first = rows.lowerBound &* width
        let last = rows.upperBound &* width
        var i = 0
        while i < first {
            dst[i] = 0
            i &+= 1
        }
        // Indices whose source lies outside the plane sit in the zeroed columns; skip them.
        let low = max(first, -shift)
        let high = max(low, min(last, inputHeight &* width &- shift))
        let src = source + shift
        i = low
        while i < high {
            dst[i] = src[i]
            i &+= 1
        }
        i = last
        let end = height &* width
        while i < end {
            dst[i] = 0
            i &+= 1
        }
        if columns.lowerBound > 0 || columns.upperBound < width {
            var line = dst + first
            for _ in rows {
                var ow = 0
                while ow < columns.lowerBound {
                    line[ow] = 0
                    ow &+= 1
                }
                ow = columns.upperBound
                while ow < width {
                    line[ow] = 0
                    ow &+= 1
                }
                line += width
            }
        }
    }

    /// `dst[ow] = line[ow·stride]` for `ow` in `start..<end`, zeros elsewhere in `0..<width`.
    @inline(__always)
    private static func copyLine(
        _ line: UnsafeMutablePointer<Float>, into dst: UnsafeMutablePointer<Float>, stride: Int, start: Int, end: Int,
        width: Int
    ) {
        var ow = 0
        while ow < start {
            dst[ow] = 0
            ow &+= 1
        }
        if stride == 1 {
            while ow < end {
                dst[ow] = line[ow]
                ow &+= 1
            }
        } else {
            while ow < end {
                dst[ow] = line[ow &* stride]
                ow &+= 1
            }
        }
        while ow < width {
            dst[ow] = 0
            ow &+= 1
        }
    }
}

