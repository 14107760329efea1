import Foundation
import PruneCore

/// A binary function applied element by element, specialised per op so the inner loops vectorise.
protocol BinaryOp: Sendable {
    associatedtype Element
    associatedtype Result
    static func apply(_ a: Element, _ b: Element) -> Result
}

enum AddF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum PowF: BinaryOp { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) } }
enum AddI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a &+ b } }
enum SubI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a &- b } }
enum MulI: BinaryOp { @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { a &* b } }
enum DivI: BinaryOp {
    /// Integer division truncating toward zero (as ONNX Runtime does); division by zero gives 0.
    @inline(__always) static func apply(_ a: Int64, _ b: Int64) -> Int64 { b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue }
}

/// Applies `Op` to `a` and `b` broadcast together, into a new tensor of `resultType`.
func broadcastBinary<Op: BinaryOp>(
    _: Op.Type, _ a: RuntimeTensor, _ b: RuntimeTensor, resultType: DType, context: KernelContext
) throws -> RuntimeTensor {
    guard let shape = Broadcast.shape([a.shape, b.shape]) else {
        throw context.error(.shapeMismatch, "input shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    let out = try context.allocate(resultType, shape)
    let count = out.count
    if count == 0 { return out }
    let pa = SharedPointer(a.raw.assumingMemoryBound(to: Op.Element.self))
    let pb = SharedPointer(b.raw.assumingMemoryBound(to: Op.Element.self))
    let po = SharedPointer(out.raw.assumingMemoryBound(to: Op.Result.self))
    let (dims, strides) = Broadcast.plan([a.shape, b.shape], output: shape)
    let inner = dims[dims.count - 1]
    let sa = strides[0][dims.count - 1]
    let sb = strides[1][dims.count - 1]
    if dims.count == 1 {
        parallelChunks(count, threads: context.threads) { range in
            binaryRow(Op.self, pa.pointer + range.lowerBound * sa, sa, pb.pointer + range.lowerBound * sb, sb,
                      po.pointer + range.lowerBound, range.count)
        }
        return out
    }
    let rows = count / inner
    parallelChunks(rows, threads: context.threads, grain: max(1, (1 << 15) / inner)) { range in
        Broadcast.forEachRow(dims: dims, strides: strides, rows: range) { row, offsets in
            binaryRow(Op.self, pa.pointer + offsets[0], sa, pb.pointer + offsets[1], sb, po.pointer + row &* inner, inner)
        }
    }
    return out
}

/// One contiguous run: strides are 0 (broadcast) or 1.
@inline(__always)
func binaryRow<Op: BinaryOp>(
    _: Op.Type, _ a: UnsafeMutablePointer<Op.Element>, _ sa: Int, _ b: UnsafeMutablePointer<Op.Element>, _ sb: Int,
    _ out: UnsafeMutablePointer<Op.Result>, _ n: Int
) {
    if sa == 1 && sb == 1 {
        for i in 0..<n { out[i] = Op.apply(a[i], b[i]) }
    } else if sa == 1 {
        let bv = b[0]
        for i in 0..<n { out[i] = Op.apply(a[i], bv) }
    } else if sb == 1 {
        let av = a[0]
        for i in 0..<n { out[i] = Op.apply(av, b[i]) }
    } else {
        let v = Op.apply(a[0], b[0])
        for i in 0..<n { out[i] = v }
    }
}

/// Add, Sub, Mul, Div (float32 and int64) and Pow (float32).
enum ElementwiseOps {
    static let factories: [String: KernelFactory] = [
        "Add": arithmetic(AddF.self, AddI.self),
        "Sub": arithmetic(SubF.self, SubI.self),
        "Mul": arithmetic(MulF.self, MulI.self),
        "Div": arithmetic(DivF.self, DivI.self),
        "Pow": { _, _ in ClosureKernel(body: pow) },
    ]

    private static func arithmetic<F: BinaryOp, I: BinaryOp>(_: F.Type, _: I.Type) -> KernelFactory
    where F.Element == Float, F.Result == Float, I.Element == Int64, I.Result == Int64 {
        { _, _ in
            ClosureKernel { inputs, context in
                let a = try context.input(inputs, 0)
                let b = try context.input(inputs, 1)
                try context.require(a, [.f32, .i64], "input 0")
                guard a.dtype == b.dtype else {
                    throw context.error(.invalidInput, "inputs have dtypes \(a.dtype.rawValue) and \(b.dtype.rawValue)")
                }
                if a.dtype == .f32 { return [try broadcastBinary(F.self, a, b, resultType: .f32, context: context)] }
                return [try broadcastBinary(I.self, a, b, resultType: .i64, context: context)]
            }
        }
    }

    /// Pow with a float32 base; the exponent may be float32 or int64. Squares and square roots take fast paths.
    private static func pow(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let base = try context.input(inputs, 0)
        var exponent = try context.input(inputs, 1)
        try context.require(base, [.f32], "input 0 (X)")
        try context.require(exponent, [.f32, .i64], "input 1 (Y)")
        if exponent.dtype == .i64 { exponent = RuntimeTensor(shape: exponent.shape, floats: exponent.floatValues()) }
        if exponent.count == 1, exponent.shape.count <= base.shape.count {
            let e = exponent.f32[0]
            if e == 2 { return [mapUnary(SquareF(), base, context: context)] }
            if e == 0.5 { return [mapUnary(SqrtF(), base, context: context)] }
        }
        return [try broadcastBinary(PowF.self, base, exponent, resultType: .f32, context: context)]
    }
}

struct SquareF: UnaryFunction { @inline(__always) func callAsFunction(_ x: Float) -> Float { x * x } }
