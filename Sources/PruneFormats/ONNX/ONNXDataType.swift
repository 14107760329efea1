import ONNXProto
import PruneCore

/// The mapping between ONNX's `TensorProto.DataType` and PruneKit's ``DType``, and ONNX's names for the types.
package enum ONNXDataType {
    /// The PruneKit dtype for an ONNX element type; nil for types PruneKit does not expose (strings, complex,
    /// unsigned 16–64-bit, the 8-, 6-, 4- and 2-bit types).
    package static func dtype(_ onnx: Int32) -> DType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(onnx)) {
        case .float: .f32
        case .float16: .f16
        case .bfloat16: .bf16
        case .double: .f64
        case .int64: .i64
        case .int32: .i32
        case .int16: .i16
        case .int8: .i8
        case .uint8: .u8
        case .bool: .bool
        default: nil
        }
    }

    /// The ONNX element type for a PruneKit dtype.
    package static func onnxType(_ dtype: DType) -> Int32 {
        let type: Onnx_TensorProto.DataType =
            switch dtype {
            case .f32: .float
            case .f16: .float16
            case .bf16: .bfloat16
            case .f64: .double
            case .i64: .int64
            case .i32: .int32
            case .i16: .int16
            case .i8: .int8
            case .u8: .uint8
            case .bool: .bool
            }
        return Int32(type.rawValue)
    }

    /// ONNX's spelling of an element type (`FLOAT`, `INT64`, …), or `type N` for a number onnx.proto does not define.
    package static func name(_ onnx: Int32) -> String {
        let names: [Int32: String] = [
            0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16", 5: "INT16", 6: "INT32", 7: "INT64",
            8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64",
            15: "COMPLEX128", 16: "BFLOAT16", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2",
            20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2",
            26: "INT2", 27: "FLOAT6E2M3", 28: "FLOAT6E3M2",
        ]
        return names[onnx] ?? "type \(onnx)"
    }

    /// The name of the typed field that holds values of `dtype` when `raw_data` is not used.
    package static func typedFieldName(_ dtype: DType) -> String {
        switch dtype {
        case .f32: "float_data"
        case .f64: "double_data"
        case .i64: "int64_data"
        case .f16, .bf16, .i32, .i16, .i8, .u8, .bool: "int32_data"
        }
    }

    /// Builds a tensor from a `TensorProto`'s typed value fields, as the ONNX specification assigns them:
    /// `float_data` for FLOAT, `double_data` for DOUBLE, `int64_data` for INT64, and `int32_data` for INT32,
    /// INT16, INT8, UINT8, BOOL and the bit patterns of FLOAT16 and BFLOAT16.
    ///
    /// - Returns: the tensor, or the reason the fields do not fit the shape (for the caller's error message).
    package static func tensor(fromTypedFields proto: Onnx_TensorProto, dtype: DType, shape: [Int]) -> Result<
        Tensor, TypedFieldMismatch
    > {
        let count = shape.reduce(1, *)
        let found: Int =
            switch dtype {
            case .f32: proto.floatData.count
            case .f64: proto.doubleData.count
            case .i64: proto.int64Data.count
            case .f16, .bf16, .i32, .i16, .i8, .u8, .bool: proto.int32Data.count
            }
        guard found == count else {
            return .failure(TypedFieldMismatch(field: typedFieldName(dtype), found: found, expected: count))
        }
        let bytes = TensorBytes(count: count * dtype.byteSize) { out in
            switch dtype {
            case .f32: store(proto.floatData, into: out)
            case .f64: store(proto.doubleData, into: out)
            case .i64: store(proto.int64Data, into: out)
            case .i32: store(proto.int32Data, into: out)
            case .i16: store(proto.int32Data.map { Int16(truncatingIfNeeded: $0) }, into: out)
            case .f16, .bf16: store(proto.int32Data.map { UInt16(truncatingIfNeeded: $0) }, into: out)
            case .i8: store(proto.int32Data.map { Int8(truncatingIfNeeded: $0) }, into: out)
            case .u8: store(proto.int32Data.map { UInt8(truncatingIfNeeded: $0) }, into: out)
            case .bool: store(proto.int32Data.map { UInt8($0 != 0 ? 1 : 0) }, into: out)
            }
        }
        return .success(Tensor(dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Why typed fields could not become a tensor.
    package struct TypedFieldMismatch: Error {
        /// The field that should hold the values.
        package var field: String
        /// How many values it holds.
        package var found: Int
        /// How many the shape needs.
        package var expected: Int
    }

    private static func store<T>(_ values: [T], into out: UnsafeMutableRawBufferPointer) {
        values.withUnsafeBytes { source in
            if let base = source.baseAddress, !source.isEmpty {
                out.baseAddress?.copyMemory(from: base, byteCount: source.count)
            }
        }
    }
}
