import Foundation
import ONNXProto
import PruneCore

/// Conversions between runtime tensors and PruneCore tensors.
extension RuntimeTensor {
    /// Creates a runtime tensor from a PruneCore tensor, applying any zero mask.
    ///
    /// float16, bfloat16 and float32 become float32; int64, int32, bool, float64, int8 and uint8 keep their type.
    ///
    /// - Throws: `PruneError.Kind.unsupported` for other dtypes.
    public init(_ tensor: Tensor) throws {
        switch tensor.dtype {
        case .f32, .f16, .bf16:
            self.init(uninitialized: .f32, shape: tensor.shape)
            let destination = f32
            tensor.withFloatValues { values in
                if let base = values.baseAddress { destination.update(from: base, count: values.count) }
            }
        case .i64, .i32, .bool, .f64, .i8, .u8:
            self.init(uninitialized: tensor.dtype, shape: tensor.shape)
            let destination = raw
            let byteCount = tensor.byteCount
            var offset = 0
            tensor.forEachByteChunk { chunk in
                if let base = chunk.baseAddress, offset + chunk.count <= byteCount {
                    (destination + offset).copyMemory(from: base, byteCount: chunk.count)
                }
                offset += chunk.count
            }
        default:
            throw PruneError(.unsupported, "the runtime does not compute with \(tensor.dtype.rawValue) tensors")
        }
    }

    /// The values as a PruneCore tensor of the same dtype (a copy).
    public func tensor() -> Tensor {
        let bytes = UnsafeRawBufferPointer(start: raw, count: count * dtype.byteSize)
        return Tensor(dtype: dtype, shape: shape, bytes: TensorBytes(copying: bytes))
    }
}

/// Decoding ONNX `TensorProto` messages.
extension RuntimeTensor {
    /// The PruneCore dtype of an ONNX `TensorProto.DataType` value, when the runtime can hold it.
    static func dtype(onnx code: Int32) -> DType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(code)) {
        case .float: .f32
        case .int64: .i64
        case .bool: .bool
        case .int32: .i32
        case .double: .f64
        case .int8, .int4: .i8
        case .uint8, .uint4: .u8
        default: nil
        }
    }

    /// Whether an ONNX data type code is a 4-bit type (two values per byte, the first in the low nibble).
    static func isFourBit(_ code: Int32) -> Bool {
        let type = Onnx_TensorProto.DataType(rawValue: Int(code))
        return type == .int4 || type == .uint4
    }

    /// A readable name for an ONNX data type code.
    static func onnxTypeName(_ code: Int32) -> String {
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(code)) else { return "type \(code)" }
        return String(describing: type).uppercased()
    }

    /// Decodes a `TensorProto` of the model file `modelURL`; external data is read relative to its folder.
    ///
    /// Sizes are checked before anything is allocated: the element count and byte count must not overflow, must
    /// stay within ``AllocationBudget/maxTensorBytes``, and must match the bytes or values the message holds.
    /// External data goes through ``ExternalDataResolver``, the same loader and confinement rule PruneFormats uses.
    ///
    /// - Throws: `PruneError` naming the model file and the tensor for an unsupported dtype, dims that are
    ///   negative or too large, data that does not match the shape, or any external-data problem.
    package init(proto: Onnx_TensorProto, modelURL: URL? = nil) throws {
        let prefix = modelURL.map { "\($0.path): " } ?? ""
        let name = proto.name.isEmpty ? "(unnamed)" : "'\(proto.name)'"
        func corrupt(_ why: String) -> PruneError { PruneError(.corruptFile, "\(prefix)tensor \(name) \(why)") }
        guard let dtype = RuntimeTensor.dtype(onnx: proto.dataType) else {
            throw PruneError(
                .unsupported,
                "\(prefix)tensor \(name) has data type \(RuntimeTensor.onnxTypeName(proto.dataType)), which the runtime does not support")
        }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }) else {
            throw corrupt("has invalid dims \(proto.dims)")
        }
        let shape = proto.dims.map { Int($0) }
        let unpackedBytes: Int
        do {
            unpackedBytes = try AllocationBudget.byteCount(shape: shape, elementSize: dtype.byteSize)
        } catch {
            throw corrupt("with dims \(shape) \(error)")
        }
        let count = unpackedBytes / max(dtype.byteSize, 1)
        let fourBit = RuntimeTensor.isFourBit(proto.dataType)
        // 4-bit values are stored two to a byte and held one to a byte.
        let byteCount = fourBit ? (count + 1) / 2 : unpackedBytes
        func requireBytes(_ available: Int) throws {
            guard available == byteCount else {
                throw corrupt("holds \(available) bytes, its shape \(shape) needs \(byteCount)")
            }
        }
        func copyRaw(_ bytes: UnsafeRawBufferPointer) -> RuntimeTensor {
            let tensor = RuntimeTensor(uninitialized: dtype, shape: shape)
            if fourBit {
                let signed = dtype == .i8
                for i in 0..<count {
                    let nibble = (i & 1 == 0 ? bytes[i >> 1] : bytes[i >> 1] >> 4) & 0x0F
                    tensor.u8[i] = signed && nibble >= 8 ? nibble | 0xF0 : nibble
                }
            } else if let base = bytes.baseAddress, byteCount > 0 {
                tensor.raw.copyMemory(from: base, byteCount: byteCount)
            }
            return tensor
        }
        if proto.dataLocation == .external {
            guard let modelURL else {
                throw PruneError(.fileUnreadable, "tensor \(name) stores its data externally but no model file is known")
            }
            let reference = try ExternalDataReference(
                entries: proto.externalData.map { ($0.key, $0.value) }, tensor: proto.name, modelPath: modelURL.path)
            var resolver = ExternalDataResolver(modelURL: modelURL)
            let (file, range) = try resolver.bytes(of: reference, tensor: proto.name, expectedBytes: byteCount)
            try requireBytes(range.count)
            self = copyRaw(file.bytes(range))
            return
        }
        if proto.hasRawData {
            try requireBytes(proto.rawData.count)
            self = proto.rawData.withUnsafeBytes { copyRaw($0) }
            return
        }
        func check(_ available: Int) throws {
            guard available == count else {
                throw corrupt("holds \(available) values, its shape \(shape) needs \(count)")
            }
        }
        switch dtype {
        case .f32: try check(proto.floatData.count)
        case .i64: try check(proto.int64Data.count)
        case .i32, .bool: try check(proto.int32Data.count)
        case .f64: try check(proto.doubleData.count)
        case .i8, .u8:
            guard !fourBit else { throw corrupt("is a 4-bit tensor in int32_data; only raw_data is supported") }
            try check(proto.int32Data.count)
        default: break
        }
        self.init(uninitialized: dtype, shape: shape)
        switch dtype {
        case .f32:
            for i in 0..<count { f32[i] = proto.floatData[i] }
        case .i64:
            for i in 0..<count { i64[i] = proto.int64Data[i] }
        case .i32:
            let p = raw.assumingMemoryBound(to: Int32.self)
            for i in 0..<count { p[i] = proto.int32Data[i] }
        case .bool:
            for i in 0..<count { u8[i] = proto.int32Data[i] == 0 ? 0 : 1 }
        case .i8, .u8:
            for i in 0..<count { u8[i] = UInt8(truncatingIfNeeded: proto.int32Data[i]) }
        case .f64:
            let p = raw.assumingMemoryBound(to: Double.self)
            for i in 0..<count { p[i] = proto.doubleData[i] }
        default:
            break
        }
    }
}

/// Reading serialized `TensorProto` files (the ONNX backend test data format).
extension RuntimeTensor {
    /// Reads a file holding one serialized `TensorProto`; returns the tensor and its stored name.
    ///
    /// - Throws: `PruneError` when the file is unreadable, not a tensor, or of a dtype the runtime does not hold.
    package static func load(tensorProtoAt url: URL) throws -> (name: String, tensor: RuntimeTensor) {
        let file = try MappedFile(url: url)
        let data = Data(file.bytes(0..<file.size))
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: data)
        } catch {
            throw PruneError(.corruptFile, "'\(url.lastPathComponent)' is not a TensorProto: \(error)")
        }
        return (proto.name, try RuntimeTensor(proto: proto, modelURL: url))
    }
}
