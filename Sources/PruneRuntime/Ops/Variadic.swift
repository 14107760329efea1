import PruneCore

enum MaxF: BinaryOp {
    /// NaN propagates, as in ONNX Runtime.
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : (a < b ? b : a) }
}
enum MinF: BinaryOp {
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : (b < a ? b : a) }
}
enum MaxI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a < b ? b : a } }
enum MinI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { b < a ? b : a } }

/// Max, Min, Sum and Mean over any number of broadcast inputs (float32; Max/Min/Sum also int64).
enum VariadicOps {
    static let factories: [String: KernelFactory] = [
        "Max": fold(MaxF.self, MaxI.self, mean: false),
        "Min": fold(MinF.self, MinI.self, mean: false),
        "Sum": fold(AddF.self, AddI.self, mean: false),
        "Mean": fold(AddF.self, AddI.self, mean: true),
    ]

    private static func fold<F: BinaryOp, I: BinaryOp>(_: F.Type, _: I.Type, mean: Bool) -> KernelFactory
    where F.Element == Float, F.Result == Float, I.Element == Int64, I.Result == Int64 {
        { _, _ in
            ClosureKernel { inputs, context in
                let values = inputs.compactMap { $0 }
                guard var result = values.first else { throw context.error(.invalidInput, "needs at least one input") }
                try context.require(result, mean ? [.f32] : [.f32, .i64], "input 0")
                for value in values.dropFirst() {
                    guard value.dtype == result.dtype else {
                        throw context.error(.invalidInput, "inputs have dtypes \(result.dtype.rawValue) and \(value.dtype.rawValue)")
                    }
                    result = result.dtype == .f32
                        ? try broadcastBinary(F.self, result, value, resultType: .f32, context: context)
                        : try broadcastBinary(I.self, result, value, resultType: .i64, context: context)
                }
                if values.count == 1 {
                    // A fresh copy so the output never aliases the input's storage.
                    let copy = RuntimeTensor(uninitialized: result.dtype, shape: result.shape)
                    copy.raw.copyMemory(from: result.raw, byteCount: result.count * result.dtype.byteSize)
                    result = copy
                }
                if mean && values.count > 1 {
                    let scale = 1 / Float(values.count)
                    let p = result.f32
                    for i in 0..<result.count { p[i] *= scale }
                }
                return [result]
            }
        }
    }
}
