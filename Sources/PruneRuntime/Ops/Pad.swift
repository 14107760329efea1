import PruneCore

/// Pad (opsets 2–21): constant, reflect, edge and wrap modes; pads from the attribute (opset < 11) or input 1,
/// the constant from input 2 (or the `value` attribute), optional `axes` (input 3, opset 18); negative pads crop.
enum PadOps {
    static let factories: [String: KernelFactory] = ["Pad": pad]

    enum Mode: String { case constant, reflect, edge, wrap }

    private static let pad: KernelFactory = { node, _ in
        let modeName = try node.string("mode", default: "constant")
        guard let mode = Mode(rawValue: modeName) else {
            throw node.error(.unsupported, "mode '\(modeName)' is not supported (constant, reflect, edge, wrap)")
        }
        let attributePads = try node.ints("pads") ?? node.ints("paddings")
        let attributeValue = try node.float("value", default: 0)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let rank = x.shape.count
            var pads: [Int]
            if context.node.hasInput(1), inputs.count > 1, let p = inputs[1] {
                pads = try context.intList(p, "input 1 (pads)")
            } else if let attributePads {
                pads = attributePads
            } else {
                throw context.error(.invalidInput, "no pads given")
            }
            var value = attributeValue
            if inputs.count > 2, let v = inputs[2], v.count > 0 { value = v.floatValues()[0] }
            var axes = Array(0..<rank)
            if inputs.count > 3, let a = inputs[3] {
                axes = try context.intList(a, "input 3 (axes)").map { try context.axis($0, rank: rank, "axes value") }
            }
            guard pads.count == 2 * axes.count else {
                throw context.error(.invalidInput, "\(pads.count) pads for \(axes.count) axes")
            }
            var begin = [Int](repeating: 0, count: rank)
            var end = [Int](repeating: 0, count: rank)
            for (i, axis) in axes.enumerated() {
                begin[axis] = pads[i]
                end[axis] = pads[axes.count + i]
            }
            return [try run(x, begin: begin, end: end, mode: mode, value: value, context)]
        }
    }

    /// Pads (or crops, for negative amounts) every axis of `x`.
    static func run(
        _ x: RuntimeTensor, begin: [Int], end: [Int], mode: Mode, value: Float, _ context: KernelContext
    ) throws -> RuntimeTensor {
        let rank = x.shape.count
        guard rank > 0 else { return x }
        // Negative pads crop first; the positive ones then pad the cropped tensor (as ONNX's reference and ONNX
        // Runtime do, which matters for wrap).
        var shape = [Int](repeating: 0, count: rank)
        var cropStart = [Int](repeating: 0, count: rank)
        var kept = [Int](repeating: 0, count: rank)
        for d in 0..<rank {
            cropStart[d] = max(0, -begin[d])
            kept[d] = x.shape[d] - cropStart[d] - max(0, -end[d])
            guard kept[d] >= 0 else { throw context.error(.invalidInput, "pads crop more than axis \(d) holds") }
            shape[d] = try CheckedSize.add(try CheckedSize.add(kept[d], max(0, begin[d]), context), max(0, end[d]), context)
            if mode != .constant, shape[d] > kept[d], kept[d] == 0 {
                throw context.error(.invalidInput, "mode \(mode.rawValue) cannot pad the empty axis \(d)")
            }
            if mode == .reflect, kept[d] == 1, shape[d] > 1 {
                throw context.error(.invalidInput, "mode reflect cannot pad axis \(d) of extent 1")
            }
        }
        let out = try CheckedSize.tensor(x.dtype, shape, context)
        let count = out.count
        if count == 0 { return out }
        let size = x.dtype.byteSize
        // The fill pattern for constant mode, in the tensor's dtype.
        var fill = [UInt8](repeating: 0, count: size)
        switch x.dtype {
        case .f32: withUnsafeBytes(of: value) { fill = Array($0) }
        case .f64: withUnsafeBytes(of: Double(value)) { fill = Array($0) }
        case .i64: withUnsafeBytes(of: Int64(value)) { fill = Array($0) }
        case .i32: withUnsafeBytes(of: Int32(value)) { fill = Array($0) }
        default: fill = [value != 0 ? 1 : 0]
        }
        let inStrides = StridedCopy.contiguousStrides(x.shape)
        let inner = shape[rank - 1]
        let rows = count / max(inner, 1)
        // For each output element along an axis: the input index it reads, or -1 for the constant.
        let maps: [[Int]] = (0..<rank).map { d in
            (0..<shape[d]).map { o in
                let s = source(o - max(0, begin[d]), extent: kept[d], mode: mode)
                return s < 0 ? -1 : cropStart[d] + s
            }
        }
        let src = x.raw
        let dst = out.raw
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        for row in 0..<rows {
            var rest = row
            var base = 0
            var outside = false
            for d in stride(from: rank - 2, through: 0, by: -1) {
                index[d] = rest % shape[d]
                rest /= shape[d]
                let s = maps[d][index[d]]
                if s < 0 { outside = true } else { base += s * inStrides[d] }
            }
            let o = dst + row * inner * size
            let lastMap = maps[rank - 1]
            // The interior (a straight copy of the input row) in one block.
            let first = max(0, begin[rank - 1])
            let last = first + kept[rank - 1]
            if !outside, first < last {
                (o + first * size).copyMemory(from: src + (base + cropStart[rank - 1]) * size, byteCount: (last - first) * size)
            }
            for i in 0..<inner where outside || i < first || i >= last {
                let s = outside ? -1 : lastMap[i]
                if s < 0 {
                    fill.withUnsafeBytes { (o + i * size).copyMemory(from: $0.baseAddress!, byteCount: size) }
                } else {
                    (o + i * size).copyMemory(from: src + (base + s) * size, byteCount: size)
                }
            }
        }
        return out
    }

    /// The input index read at position `i` (may be outside `0..<extent`) of an axis, or -1 for the constant.
    static func source(_ i: Int, extent n: Int, mode: Mode) -> Int {
        if i >= 0 && i < n { return i }
        switch mode {
        case .constant: return -1
        case .edge: return i < 0 ? 0 : n - 1
        case .wrap: return ((i % n) + n) % n
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            var j = ((i % period) + period) % period
            if j >= n { j = period - j }
            return j
        }
    }
}
