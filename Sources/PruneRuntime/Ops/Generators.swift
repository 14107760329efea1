import Foundation
import PruneCore

/// Ops that make values: Constant, ConstantOfShape, Range, and Cast between the runtime's dtypes.
enum GeneratorOps {
    static let factories: [String: KernelFactory] = [
        "Constant": constant,
        "ConstantOfShape": constantOfShape,
        "Range": { _, _ in ClosureKernel(body: range) },
        "Cast": cast,
    ]

    private static let constant: KernelFactory = { node, _ in
        let value: RuntimeTensor
        switch (node.attributes.keys.first, node.attributes.count) {
        case (_, let n) where n != 1:
            throw node.error(.invalidInput, "Constant needs exactly one value attribute")
        case ("value", _):
            guard case .tensor(let t)? = node.attributes["value"] else {
                if case .other(let reason)? = node.attributes["value"] { throw node.error(.unsupported, reason) }
                throw node.error(.invalidInput, "attribute value is not a tensor")
            }
            value = t
        case ("value_float", _): value = RuntimeTensor(shape: [], floats: [try node.float("value_float", default: 0)])
        case ("value_floats", _):
            let v = try node.floats("value_floats") ?? []
            value = RuntimeTensor(shape: [v.count], floats: v)
        case ("value_int", _): value = RuntimeTensor(shape: [], int64s: [Int64(try node.int("value_int", default: 0))])
        case ("value_ints", _):
            let v = try node.ints("value_ints") ?? []
            value = RuntimeTensor(shape: [v.count], int64s: v.map { Int64($0) })
        case (let key?, _):
            throw node.error(.unsupported, "Constant attribute '\(key)' is not supported")
        default:
            throw node.error(.invalidInput, "Constant has no value")
        }
        return ClosureKernel { _, _ in [value] }
    }

    private static let constantOfShape: KernelFactory = { node, _ in
        var fill = RuntimeTensor(shape: [1], floats: [0])
        if let attribute = node.attributes["value"] {
            switch attribute {
            case .tensor(let t) where t.count == 1: fill = t
            case .other(let reason): throw node.error(.unsupported, reason)
            default: throw node.error(.invalidInput, "attribute value must be a one-element tensor")
            }
        }
        let value = fill
        return ClosureKernel { inputs, context in
            let shape = try context.intList(try context.input(inputs, 0), "input 0 (shape)")
            guard shape.allSatisfy({ $0 >= 0 }) else { throw context.error(.invalidInput, "shape \(shape) has a negative extent") }
            let out = try context.allocate(value.dtype, shape)
            let size = value.dtype.byteSize
            for i in 0..<out.count { (out.raw + i * size).copyMemory(from: value.raw, byteCount: size) }
            return [out]
        }
    }

    private static func range(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let start = try context.input(inputs, 0)
        let limit = try context.input(inputs, 1)
        let delta = try context.input(inputs, 2)
        try context.require(start, [.f32, .i64, .i32], "input 0 (start)")
        guard limit.dtype == start.dtype, delta.dtype == start.dtype else {
            throw context.error(.invalidInput, "start, limit and delta must have one dtype")
        }
        guard start.count >= 1, limit.count >= 1, delta.count >= 1 else {
            throw context.error(.invalidInput, "start, limit and delta must be scalars")
        }
        /// ONNX's element count `max(ceil((limit - start) / delta), 0)`, refused when delta is 0 or the count
        /// is not finite or cannot be allocated.
        func count(_ s: Double, _ l: Double, _ d: Double) throws -> Int {
            guard d != 0 else { throw context.error(.invalidInput, "delta is 0") }
            let n = Foundation.ceil((l - s) / d)
            guard n.isFinite else {
                throw context.error(.invalidInput, "start \(s), limit \(l) and delta \(d) give no finite count")
            }
            guard n > 0 else { return 0 }
            guard n < Double(Int.max / 8) else {
                throw context.error(.invalidInput, "start \(s), limit \(l) and delta \(d) give \(n) elements")
            }
            _ = try context.checkedByteCount(start.dtype, [Int(n)])
            return Int(n)
        }
        if start.dtype == .f32 {
            let (s, l, d) = (start.f32[0], limit.f32[0], delta.f32[0])
            let n = try count(Double(s), Double(l), Double(d))
            return [RuntimeTensor(shape: [n], floats: (0..<n).map { s + Float($0) * d })]
        }
        let (s, l, d) = (start.int64Values()[0], limit.int64Values()[0], delta.int64Values()[0])
        let n = try count(Double(s), Double(l), Double(d))
        let values = (0..<n).map { s &+ Int64($0) &* d }
        if start.dtype == .i64 { return [RuntimeTensor(shape: [n], int64s: values)] }
        let out = RuntimeTensor(uninitialized: .i32, shape: [n])
        let p = out.raw.assumingMemoryBound(to: Int32.self)
        for (i, v) in values.enumerated() { p[i] = Int32(truncatingIfNeeded: v) }
        return [out]
    }

    private static let cast: KernelFactory = { node, _ in
        guard let code = try node.optionalInt("to") else { throw node.error(.invalidInput, "attribute to is missing") }
        guard let target = RuntimeTensor.dtype(onnx: Int32(code)) else {
            throw node.error(.unsupported, "casting to \(RuntimeTensor.onnxTypeName(Int32(code))) is not supported")
        }
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            return [convert(x, to: target)]
        }
    }

    /// `x` converted to `target`: floats to integers truncate toward zero (8-bit integers then wrap), anything to
    /// bool tests for non-zero.
    static func convert(_ x: RuntimeTensor, to target: DType) -> RuntimeTensor {
        if x.dtype == target { return x }
        let n = x.count
        let out = RuntimeTensor(uninitialized: target, shape: x.shape)
        func read(_ i: Int) -> Double {
            switch x.dtype {
            case .f32: Double(x.f32[i])
            case .f64: x.raw.load(fromByteOffset: i * 8, as: Double.self)
            case .i64: Double(x.i64[i])
            case .i32: Double(x.raw.load(fromByteOffset: i * 4, as: Int32.self))
            case .i8: Double(Int8(bitPattern: x.u8[i]))
            default: Double(x.u8[i])
            }
        }
        switch (x.dtype, target) {
        case (.i64, .f32): for i in 0..<n { out.f32[i] = Float(x.i64[i]) }
        case (.f32, .i64): for i in 0..<n { out.i64[i] = x.f32[i].isFinite ? Int64(x.f32[i]) : 0 }
        case (.bool, .f32): for i in 0..<n { out.f32[i] = x.u8[i] == 0 ? 0 : 1 }
        case (_, .f32): for i in 0..<n { out.f32[i] = Float(read(i)) }
        case (_, .f64): for i in 0..<n { out.raw.storeBytes(of: read(i), toByteOffset: i * 8, as: Double.self) }
        case (.i32, .i64): for i in 0..<n { out.i64[i] = Int64(x.raw.load(fromByteOffset: i * 4, as: Int32.self)) }
        case (_, .i64):
            for i in 0..<n {
                let v = read(i)
                out.i64[i] = v.isFinite ? Int64(v) : 0
            }
        case (_, .i32):
            for i in 0..<n {
                let v = read(i)
                out.raw.storeBytes(of: v.isFinite ? Int32(truncatingIfNeeded: Int64(v)) : 0, toByteOffset: i * 4, as: Int32.self)
            }
        case (_, .u8), (_, .i8):
            // Integers wrap (ONNX leaves out-of-range casts undefined); floats truncate toward zero first.
            for i in 0..<n {
                let v = read(i)
                out.u8[i] = v.isFinite ? UInt8(truncatingIfNeeded: Int64(v)) : 0
            }
        default: for i in 0..<n { out.u8[i] = read(i) != 0 ? 1 : 0 }
        }
        return out
    }
}
