import PruneCore

/// Stores float32 values back in a tensor's own dtype (rewriter outputs).
enum TensorNarrowing {
    /// A tensor shaped and typed like `original` holding `values`, rounded to nearest (ties to even) for the
    /// 16-bit float formats, rounded and clamped for integers.
    ///
    /// - Precondition: `values.count == original.elementCount`.
    static func tensor(from values: UnsafeBufferPointer<Float>, like original: Tensor) -> Tensor {
        precondition(
            values.count == original.elementCount, "\(values.count) values for \(original.elementCount) elements")
        let dtype = original.dtype
        let bytes = TensorBytes(count: values.count * dtype.byteSize) { raw in
            for (i, value) in values.enumerated() {
                switch dtype {
                case .f32: raw.storeBytes(of: value, toByteOffset: i * 4, as: Float.self)
                case .f64: raw.storeBytes(of: Double(value), toByteOffset: i * 8, as: Double.self)
                case .f16: raw.storeBytes(of: halfBits(value), toByteOffset: i * 2, as: UInt16.self)
                case .bf16: raw.storeBytes(of: bfloat16Bits(value), toByteOffset: i * 2, as: UInt16.self)
                case .i64: raw.storeBytes(of: integer(value, Int64.self), toByteOffset: i * 8, as: Int64.self)
                case .i32: raw.storeBytes(of: integer(value, Int32.self), toByteOffset: i * 4, as: Int32.self)
                case .i16: raw.storeBytes(of: integer(value, Int16.self), toByteOffset: i * 2, as: Int16.self)
                case .i8: raw.storeBytes(of: integer(value, Int8.self), toByteOffset: i, as: Int8.self)
                case .u8: raw.storeBytes(of: integer(value, UInt8.self), toByteOffset: i, as: UInt8.self)
                case .bool: raw.storeBytes(of: value == 0 ? 0 : 1, toByteOffset: i, as: UInt8.self)
                }
            }
        }
        return Tensor(dtype: dtype, shape: original.shape, bytes: bytes)
    }

    /// The IEEE binary16 bits nearest to `value` (ties to even; overflow to infinity).
    static func halfBits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
        let halfExponent = exponent - 112
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // Subnormal (or zero) in binary16: the significand with its implicit bit, shifted into place.
            guard halfExponent >= -10 else { return sign }
            let significand = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)
            return sign | UInt16(roundShift(significand, by: shift))
        }
        let combined = UInt32(halfExponent) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        let rounded = remainder > 0x1000 || (remainder == 0x1000 && combined & 1 == 1) ? combined + 1 : combined
        return sign | UInt16(rounded)  // a carry into the exponent is the correct rounding (up to infinity)
    }

    /// The bfloat16 bits nearest to `value` (ties to even).
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    private static func roundShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let remainder = value & ((1 << shift) - 1)
        let half = UInt32(1) << (shift - 1)
        return remainder > half || (remainder == half && kept & 1 == 1) ? kept + 1 : kept
    }

    private static func integer<T: FixedWidthInteger>(_ value: Float, _ type: T.Type) -> T {
        let rounded = value.rounded(.toNearestOrEven)
        if rounded <= Float(T.min) { return T.min }
        if rounded >= Float(T.max) { return T.max }
        return T(rounded)
    }
}
