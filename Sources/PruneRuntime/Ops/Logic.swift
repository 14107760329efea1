import PruneCore

enum EqualF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> UInt8 { a == b ? 1 : 0 } }
enum EqualI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> UInt8 { a == b ? 1 : 0 } }
enum EqualI32: BinaryOp { @inline(__always) static func apply(_ a: Int32, _ b: Int32) -> UInt8 { a == b ? 1 : 0 } }
enum EqualB: BinaryOp { @inline(__always) static func apply(_ a: UInt8, _ b: UInt8) -> UInt8 { (a != 0) == (b != 0) ? 1 : 0 } }

/// Equal (float32, int64, int32, bool → bool) and Where (any dtype, broadcast).
enum LogicOps {
    static let factories: [String: KernelFactory] = [
        "Equal": { _, _ in ClosureKernel(body: equal) },
        "Where": { _, _ in ClosureKernel(body: select) },
    ]

    private static func equal(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let a = try context.input(inputs, 0)
        let b = try context.input(inputs, 1)
        try context.require(a, [.f32, .i64, .i32, .bool], "input 0")
        guard a.dtype == b.dtype else { throw context.error(.invalidInput, "inputs have dtypes \(a.dtype.rawValue) and \(b.dtype.rawValue)") }
        switch a.dtype {
        case .f32: return [try broadcastBinary(EqualF.self, a, b, resultType: .bool, context: context)]
        case .i64: return [try broadcastBinary(EqualI.self, a, b, resultType: .bool, context: context)]
        case .i32: return [try broadcastBinary(EqualI32.self, a, b, resultType: .bool, context: context)]
        default: return [try broadcastBinary(EqualB.self, a, b, resultType: .bool, context: context)]
        }
    }

    private static func select(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let condition = try context.input(inputs, 0)
        let x = try context.input(inputs, 1)
        let y = try context.input(inputs, 2)
        try context.require(condition, [.bool], "input 0 (condition)")
        guard x.dtype == y.dtype else { throw context.error(.invalidInput, "X and Y have dtypes \(x.dtype.rawValue) and \(y.dtype.rawValue)") }
        guard let shape = Broadcast.shape([condition.shape, x.shape, y.shape]) else {
            throw context.error(.shapeMismatch, "shapes \(condition.shape), \(x.shape), \(y.shape) do not broadcast")
        }
        let out = RuntimeTensor(uninitialized: x.dtype, shape: shape)
        if out.count == 0 { return [out] }
        let (dims, strides) = Broadcast.plan([condition.shape, x.shape, y.shape], output: shape)
        let inner = dims[dims.count - 1]
        let s = strides.map { $0[dims.count - 1] }
        switch x.dtype.byteSize {
        case 8: selectRows(UInt64.self, condition, x, y, out, dims, strides, inner, s)
        case 4: selectRows(UInt32.self, condition, x, y, out, dims, strides, inner, s)
        default: selectRows(UInt8.self, condition, x, y, out, dims, strides, inner, s)
        }
        return [out]
    }

    private static func selectRows<T>(
        _: T.Type, _ c: RuntimeTensor, _ x: RuntimeTensor, _ y: RuntimeTensor, _ out: RuntimeTensor, _ dims: [Int],
        _ strides: [[Int]], _ inner: Int, _ s: [Int]
    ) {
        let pc = c.u8
        let px = x.raw.assumingMemoryBound(to: T.self)
        let py = y.raw.assumingMemoryBound(to: T.self)
        let po = out.raw.assumingMemoryBound(to: T.self)
        Broadcast.forEachRow(dims: dims, strides: strides, rows: 0..<(out.count / inner)) { row, offsets in
            let o = po + row * inner
            for i in 0..<inner {
                o[i] = pc[offsets[0] &+ i &* s[0]] != 0 ? px[offsets[1] &+ i &* s[1]] : py[offsets[2] &+ i &* s[2]]
            }
        }
    }
}
