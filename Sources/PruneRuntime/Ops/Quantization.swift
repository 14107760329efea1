import PruneCore

/// QuantizeLinear and DequantizeLinear (opsets 10–21): per-tensor, per-axis (`axis`) and blocked (`block_size`)
/// scales and zero points; int8 and uint8 quantized values (4-bit initializers arrive unpacked as int8/uint8).
///
/// DequantizeLinear: y = (x − zero_point) · scale. QuantizeLinear: y = saturate(round(x / scale) + zero_point),
/// rounding half to even, into the zero point's type (uint8 when there is none).
enum QuantizationOps {
    static let factories: [String: KernelFactory] = [
        "DequantizeLinear": { node, _ in
            let axis = try node.int("axis", default: 1)
            let blockSize = try node.int("block_size", default: 0)
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.i8, .u8, .i32], "input 0 (x)")
                let scale = try context.input(inputs, 1)
                try context.require(scale, [.f32], "input 1 (x_scale)")
                let zero = inputs.count > 2 ? inputs[2] : nil
                if let zero { try context.require(zero, [x.dtype], "input 2 (x_zero_point)") }
                let map = try ParameterMap(
                    x: x.shape, parameter: scale.shape, axis: axis, blockSize: blockSize, context: context)
                let xs = x.int64Values()
                let zeros = zero?.int64Values()
                let scales = scale.f32
                let out = RuntimeTensor(uninitialized: .f32, shape: x.shape)
                for i in 0..<x.count {
                    let p = map.index(i)
                    out.f32[i] = Float(xs[i] - (zeros?[p] ?? 0)) * scales[p]
                }
                return [out]
            }
        },
        "QuantizeLinear": { node, _ in
            let axis = try node.int("axis", default: 1)
            let blockSize = try node.int("block_size", default: 0)
            let saturate = try node.int("saturate", default: 1)
            let outputType = try node.int("output_dtype", default: 0)
            guard outputType == 0 || outputType == 2 || outputType == 3 else {
                throw node.error(.unsupported, "output_dtype \(outputType) is not supported (only uint8 and int8)")
            }
            _ = saturate  // Integer outputs always saturate.
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.f32], "input 0 (x)")
                let scale = try context.input(inputs, 1)
                try context.require(scale, [.f32], "input 1 (y_scale)")
                let zero = inputs.count > 2 ? inputs[2] : nil
                let dtype: DType = zero?.dtype ?? (outputType == 3 ? .i8 : .u8)
                guard dtype == .i8 || dtype == .u8 else {
                    throw context.error(.unsupported, "quantizing to \(dtype.rawValue) is not supported (only I8 and U8)")
                }
                let map = try ParameterMap(
                    x: x.shape, parameter: scale.shape, axis: axis, blockSize: blockSize, context: context)
                let zeros = zero?.int64Values()
                let (low, high): (Float, Float) = dtype == .i8 ? (-128, 127) : (0, 255)
                let out = RuntimeTensor(uninitialized: dtype, shape: x.shape)
                let scales = scale.f32
                for i in 0..<x.count {
                    let p = map.index(i)
                    let shifted = (x.f32[i] / scales[p]).rounded(.toNearestOrEven) + Float(zeros?[p] ?? 0)
                    let clamped = shifted.isNaN ? 0 : min(max(shifted, low), high)
                    let q = Int(clamped)
                    out.u8[i] = dtype == .u8 ? UInt8(q) : UInt8(bitPattern: Int8(q))
                }
                return [out]
            }
        },
    ]
}

/// Which scale (and zero point) each element of x uses: one for the tensor, one per index along `axis`, or one per
/// block of `blockSize` indices along `axis` (the parameter then has x's rank, with ⌈D / blockSize⌉ at `axis`).
private struct ParameterMap {
    private enum Mode {
        case tensor
        case axis(extent: Int, inner: Int)
        case blocked(extent: Int, inner: Int, blocks: Int, size: Int)
    }
    private let mode: Mode

    init(x: [Int], parameter: [Int], axis: Int, blockSize: Int, context: KernelContext) throws {
        let count = parameter.reduce(1, *)
        if count == 1 && blockSize == 0 {
            mode = .tensor
            return
        }
        let rank = x.count
        let resolved = try context.axis(axis, rank: rank)
        let extent = x[resolved]
        let inner = x[(resolved + 1)...].reduce(1, *)
        if blockSize <= 0 {
            guard parameter.count == 1, parameter[0] == extent else {
                throw context.error(
                    .invalidInput, "scale shape \(parameter) is neither a scalar nor [\(extent)] (axis \(axis) of \(x))")
            }
            mode = .axis(extent: extent, inner: inner)
        } else {
            let blocks = (extent + blockSize - 1) / blockSize
            var expected = x
            expected[resolved] = blocks
            guard parameter == expected else {
                throw context.error(
                    .invalidInput,
                    "blocked scale shape \(parameter) should be \(expected) (axis \(axis), block_size \(blockSize))")
            }
            mode = .blocked(extent: extent, inner: inner, blocks: blocks, size: blockSize)
        }
    }

    /// The parameter index of x's flat element `i`.
    func index(_ i: Int) -> Int {
        switch mode {
        case .tensor:
            return 0
        case .axis(let extent, let inner):
            return (i / inner) % extent
        case .blocked(let extent, let inner, let blocks, let size):
            let (rest, within) = i.quotientAndRemainder(dividingBy: inner)
            let (outer, a) = rest.quotientAndRemainder(dividingBy: extent)
            return (outer * blocks + a / size) * inner + within
        }
    }
}
