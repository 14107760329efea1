import Foundation
import PruneCore

/// Mod with `fmod = 0`: the remainder takes the divisor's sign (Python's `%`, integers only, as ONNX requires).
enum ModI: BinaryOp {
    @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 {
        guard b != 0 else { return 0 }
        let r = a.remainderReportingOverflow(dividingBy: b).partialValue
        return r != 0 && (r < 0) != (b < 0) ? r &+ b : r
    }
}

/// Mod with `fmod = 1`: C's `fmod`, the remainder takes the dividend's sign.
enum FModI: BinaryOp {
    @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 {
        b == 0 ? 0 : a.remainderReportingOverflow(dividingBy: b).partialValue
    }
}

/// Mod with `fmod = 1` on float32.
enum FModF: BinaryOp {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Foundation.fmod(a, b) }
}

/// Mod (opset 10, 13): int64 with `fmod` 0 or 1, float32 with `fmod = 1` (ONNX forbids `fmod = 0` on floats).
enum ModOps {
    static let factories: [String: KernelFactory] = [
        "Mod": { node, _ in
            let fmod = try node.int("fmod", default: 0) != 0
            return ClosureKernel { inputs, context in
                let a = try context.input(inputs, 0)
                let b = try context.input(inputs, 1)
                try context.require(a, [.f32, .i64], "input 0")
                guard a.dtype == b.dtype else {
                    throw context.error(.invalidInput, "inputs have dtypes \(a.dtype.rawValue) and \(b.dtype.rawValue)")
                }
                if a.dtype == .f32 {
                    guard fmod else { throw context.error(.invalidInput, "float inputs need fmod=1") }
                    return [try broadcastBinary(FModF.self, a, b, resultType: .f32, context: context)]
                }
                if fmod { return [try broadcastBinary(FModI.self, a, b, resultType: .i64, context: context)] }
                return [try broadcastBinary(ModI.self, a, b, resultType: .i64, context: context)]
            }
        }
    ]
}
