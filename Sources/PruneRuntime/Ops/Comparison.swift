import PruneCore

enum LessF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> UInt8 { a < b ? 1 : 0 } }
enum LessI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> UInt8 { a < b ? 1 : 0 } }
enum LessEqualF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> UInt8 { a <= b ? 1 : 0 } }
enum LessEqualI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> UInt8 { a <= b ? 1 : 0 } }
enum GreaterF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> UInt8 { a > b ? 1 : 0 } }
enum GreaterI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> UInt8 { a > b ? 1 : 0 } }
enum GreaterEqualF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> UInt8 { a >= b ? 1 : 0 } }
enum GreaterEqualI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> UInt8 { a >= b ? 1 : 0 } }
enum AndB: BinaryOp { @inline(__always) static func apply(_ a: UInt8, _ b: UInt8) -> UInt8 { (a != 0 && b != 0) ? 1 : 0 } }
enum OrB: BinaryOp { @inline(__always) static func apply(_ a: UInt8, _ b: UInt8) -> UInt8 { (a != 0 || b != 0) ? 1 : 0 } }
enum XorB: BinaryOp { @inline(__always) static func apply(_ a: UInt8, _ b: UInt8) -> UInt8 { (a != 0) != (b != 0) ? 1 : 0 } }

/// Less, LessOrEqual, Greater, GreaterOrEqual (float32, int64 → bool), And, Or, Xor, Not (bool).
enum ComparisonOps {
    static let factories: [String: KernelFactory] = [
        "Less": compare(LessF.self, LessI.self),
        "LessOrEqual": compare(LessEqualF.self, LessEqualI.self),
        "Greater": compare(GreaterF.self, GreaterI.self),
        "GreaterOrEqual": compare(GreaterEqualF.self, GreaterEqualI.self),
        "And": logical(AndB.self),
        "Or": logical(OrB.self),
        "Xor": logical(XorB.self),
        "Not": { _, _ in
            ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.bool], "input 0")
                let out = RuntimeTensor(uninitialized: .bool, shape: x.shape)
                for i in 0..<x.count { out.u8[i] = x.u8[i] == 0 ? 1 : 0 }
                return [out]
            }
        },
    ]

    private static func compare<F: BinaryOp, I: BinaryOp>(_: F.Type, _: I.Type) -> KernelFactory
    where F.Element == Float, F.Result == UInt8, I.Element == Int64, I.Result == UInt8 {
        { _, _ in
            ClosureKernel { inputs, context in
                var a = try context.input(inputs, 0)
                var b = try context.input(inputs, 1)
                try context.require(a, [.f32, .i64, .i32, .f64], "input 0")
                guard a.dtype == b.dtype else {
                    throw context.error(.invalidInput, "inputs have dtypes \(a.dtype.rawValue) and \(b.dtype.rawValue)")
                }
                if a.dtype == .i32 {
                    a = RuntimeTensor(shape: a.shape, int64s: a.int64Values())
                    b = RuntimeTensor(shape: b.shape, int64s: b.int64Values())
                } else if a.dtype == .f64 {
                    a = RuntimeTensor(shape: a.shape, floats: a.floatValues())
                    b = RuntimeTensor(shape: b.shape, floats: b.floatValues())
                }
                if a.dtype == .f32 { return [try broadcastBinary(F.self, a, b, resultType: .bool, context: context)] }
                return [try broadcastBinary(I.self, a, b, resultType: .bool, context: context)]
            }
        }
    }

    private static func logical<B: BinaryOp>(_: B.Type) -> KernelFactory where B.Element == UInt8, B.Result == UInt8 {
        { _, _ in
            ClosureKernel { inputs, context in
                let a = try context.input(inputs, 0)
                let b = try context.input(inputs, 1)
                try context.require(a, [.bool], "input 0")
                try context.require(b, [.bool], "input 1")
                return [try broadcastBinary(B.self, a, b, resultType: .bool, context: context)]
            }
        }
    }
}
