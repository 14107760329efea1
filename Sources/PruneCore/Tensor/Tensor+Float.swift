/// Reading any tensor as `Float` values, the type PruneKit computes in.
extension Tensor {
    /// Hands `body` the elements as `Float`, in row-major order, converting from the stored dtype when needed.
    ///
    /// An aligned, unmasked float32 tensor is handed over in place (a memory-mapped tensor is not copied);
    /// other dtypes are widened into a temporary buffer that lives for the call. Integers convert to the nearest
    /// `Float`; float64 rounds to nearest.
    ///
    /// - Complexity: O(1) for the in-place case, otherwise O(`elementCount`).
    public func withFloatValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let raw = bytes.raw
        if dtype == .f32, zeroMask == nil, let base = raw.baseAddress,
            Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0
        {
            let floats = base.bindMemory(to: Float.self, capacity: elementCount)
            return try body(UnsafeBufferPointer(start: floats, count: elementCount))
        }
        let converted = UnsafeMutableBufferPointer<Float>.allocate(capacity: elementCount)
        defer { converted.deallocate() }
        Tensor.widen(raw, dtype: dtype, into: converted)
        if let zeroMask {
            for index in zeroMask.setIndices { converted[index] = 0 }
        }
        return try body(UnsafeBufferPointer(converted))
    }

    /// The elements as a `Float` array (a copy).
    public func floatValues() -> [Float] {
        withFloatValues { Array($0) }
    }

    /// The number of elements equal to zero (either sign), masked elements included.
    ///
    /// Float32 tensors are counted in place, masked or not, in one vectorised pass.
    public func zeroCount() -> Int {
        let raw = bytes.raw
        if dtype == .f32, let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            let values = UnsafeBufferPointer(
                start: base.bindMemory(to: Float.self, capacity: elementCount), count: elementCount)
            guard let zeroMask else { return Kernels.countZeros(values) }
            return zeroMask.withWords { Kernels.countZeros(values, orMasked: $0) }
        }
        return withFloatValues { values in Kernels.countZeros(values) }
    }

    /// The fraction of elements equal to zero; 0 for an empty tensor.
    public var sparsity: Double {
        elementCount == 0 ? 0 : Double(zeroCount()) / Double(elementCount)
    }

    private static func widen(_ raw: UnsafeRawBufferPointer, dtype: DType, into out: UnsafeMutableBufferPointer<Float>)
    {
        let count = out.count
        switch dtype {
        case .f32: for i in 0..<count { out[i] = raw.loadUnaligned(fromByteOffset: i &* 4, as: Float.self) }
        case .f64: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i &* 8, as: Double.self)) }
        case .f16:
            for i in 0..<count {
                out[i] = HalfPrecision.float(fromHalfBits: raw.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
            }
        case .bf16:
            for i in 0..<count {
                out[i] = HalfPrecision.float(
                    fromBFloat16Bits: raw.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self))
            }
        case .i64: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self)) }
        case .i32: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self)) }
        case .i16: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i &* 2, as: Int16.self)) }
        case .i8: for i in 0..<count { out[i] = Float(raw.load(fromByteOffset: i, as: Int8.self)) }
        case .u8: for i in 0..<count { out[i] = Float(raw.load(fromByteOffset: i, as: UInt8.self)) }
        case .bool: for i in 0..<count { out[i] = raw.load(fromByteOffset: i, as: UInt8.self) == 0 ? 0 : 1 }
        }
    }
}
