import PruneCore

/// A dense tensor the interpreter computes with: a dtype, a shape and contiguous row-major storage.
///
/// The interpreter computes in float32 and keeps int64 and bool for shape arithmetic, indices and masks; int32
/// and float64 are accepted as storage so `Cast` can convert them. Values are immutable once made: reshaping
/// ops share storage, every computing op writes a fresh tensor.
public struct RuntimeTensor: Sendable {
    /// The element type: one of ``RuntimeTensor/supportedTypes``.
    public let dtype: DType
    /// The extent of each dimension, outermost first; empty for a scalar.
    public let shape: [Int]
    let storage: TensorStorage

    /// The dtypes a runtime tensor can hold (int8 and uint8 for quantized values, which only `QuantizeLinear` and
    /// `DequantizeLinear` compute with; 4-bit ONNX tensors are held unpacked in them).
    public static let supportedTypes: Set<DType> = [.f32, .i64, .bool, .i32, .f64, .i8, .u8]

    /// The number of elements (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    init(dtype: DType, shape: [Int], storage: TensorStorage) {
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` whose elements are not yet written; the caller fills every element before sharing it.
    ///
    /// The byte count is computed with checked arithmetic and stops the process rather than wrap to a short
    /// buffer; kernels whose shapes come from the model's values check first with `KernelContext.allocate`,
    /// which throws an error naming the node instead.
    init(uninitialized dtype: DType, shape: [Int]) {
        guard let count = Tensor.checkedElementCount(shape),
            case (let bytes, false) = count.multipliedReportingOverflow(by: dtype.byteSize)
        else { preconditionFailure("tensor shape \(shape) of \(dtype.rawValue) overflows a 64-bit byte count") }
        self.init(dtype: dtype, shape: shape, storage: TensorStorage(byteCount: bytes))
    }

    /// Creates a float32 tensor holding `values` in row-major order.
    ///
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], floats values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs \(values.count) values")
        self.init(uninitialized: .f32, shape: shape)
        values.withUnsafeBufferPointer { storage.raw.copyMemory(from: $0.baseAddress!, byteCount: values.count * 4) }
    }

    /// Creates an int64 tensor holding `values` in row-major order.
    ///
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], int64s values: [Int64]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs \(values.count) values")
        self.init(uninitialized: .i64, shape: shape)
        values.withUnsafeBufferPointer { storage.raw.copyMemory(from: $0.baseAddress!, byteCount: values.count * 8) }
    }

    /// Creates a bool tensor holding `values` in row-major order.
    ///
    /// - Precondition: `values.count` equals the product of `shape`.
    public init(shape: [Int], bools values: [Bool]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) needs \(values.count) values")
        self.init(uninitialized: .bool, shape: shape)
        let bytes = storage.raw.assumingMemoryBound(to: UInt8.self)
        for (index, value) in values.enumerated() { bytes[index] = value ? 1 : 0 }
    }

    /// The same elements viewed with another shape of equal element count; no copy.
    func reshaped(_ newShape: [Int]) -> RuntimeTensor {
        RuntimeTensor(dtype: dtype, shape: newShape, storage: storage)
    }

    /// The elements converted to `Float` (integers and bools widened; float64 rounded).
    public func floatValues() -> [Float] {
        let n = count
        switch dtype {
        case .f32: return Array(UnsafeBufferPointer(start: f32, count: n))
        case .f64: return (0..<n).map { Float(storage.raw.load(fromByteOffset: $0 * 8, as: Double.self)) }
        case .i64: return (0..<n).map { Float(i64[$0]) }
        case .i32: return (0..<n).map { Float(storage.raw.load(fromByteOffset: $0 * 4, as: Int32.self)) }
        case .bool: return (0..<n).map { u8[$0] == 0 ? 0 : 1 }
        case .u8: return (0..<n).map { Float(u8[$0]) }
        case .i8: return (0..<n).map { Float(storage.raw.load(fromByteOffset: $0, as: Int8.self)) }
        default: return []
        }
    }

    /// The elements converted to `Int64` (floats truncated toward zero; bools as 0 or 1).
    public func int64Values() -> [Int64] {
        let n = count
        switch dtype {
        case .i64: return Array(UnsafeBufferPointer(start: i64, count: n))
        case .i32: return (0..<n).map { Int64(storage.raw.load(fromByteOffset: $0 * 4, as: Int32.self)) }
        case .bool, .u8: return (0..<n).map { Int64(u8[$0]) }
        case .i8: return (0..<n).map { Int64(storage.raw.load(fromByteOffset: $0, as: Int8.self)) }
        case .f32: return (0..<n).map { Int64(f32[$0]) }
        case .f64: return (0..<n).map { Int64(storage.raw.load(fromByteOffset: $0 * 8, as: Double.self)) }
        default: return []
        }
    }

    /// The elements as `Bool` (non-zero is true).
    public func boolValues() -> [Bool] { floatValues().map { $0 != 0 } }

    // MARK: Typed views for kernels (valid while the tensor is alive).

    var raw: UnsafeMutableRawPointer { storage.raw }
    var f32: UnsafeMutablePointer<Float> { storage.raw.assumingMemoryBound(to: Float.self) }
    var i64: UnsafeMutablePointer<Int64> { storage.raw.assumingMemoryBound(to: Int64.self) }
    var u8: UnsafeMutablePointer<UInt8> { storage.raw.assumingMemoryBound(to: UInt8.self) }
}

/// Owned, 64-byte-aligned bytes behind a runtime tensor; freed (or handed back to the ``BufferPool`` they came
/// from) when the last tensor sharing them goes away.
final class TensorStorage: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    let byteCount: Int
    private let pool: BufferPool?
    private let capacity: Int

    /// Fresh bytes, from the interpreter's pool while it runs (contents are arbitrary either way).
    init(byteCount: Int) {
        self.byteCount = byteCount
        if byteCount >= BufferPool.minimumBytes, let pool = BufferPool.current {
            (raw, capacity) = pool.take(byteCount)
            self.pool = pool
        } else {
            raw = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
            capacity = byteCount
            pool = nil
        }
    }

    deinit {
        if let pool { pool.give(raw, capacity: capacity) } else { raw.deallocate() }
    }
}
