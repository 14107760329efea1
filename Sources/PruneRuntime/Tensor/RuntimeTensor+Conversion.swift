import Foundation
import ONNXProto
import PruneCore

/// Conversions between runtime tensors and PruneCore tensors.
extension RuntimeTensor {
    /// Creates a runtime tensor from a PruneCore tensor, applying any zero mask.
    ///
    /// float16, bfloat16 and float32 become float32; int64, int32, bool and float64 keep their type.
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
        case .i64, .i32, .bool, .f64:
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
        default: nil
        }
    }

    /// A readable name for an ONNX data type code.
    static func onnxTypeName(_ code: Int32) -> String {
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(code)) else { return "type \(code)" }
        return String(describing: type).uppercased()
    }

    /// Decodes a `TensorProto`, reading external data relative to `baseDirectory`.
    ///
    /// - Throws: `PruneError` naming the tensor for an unsupported dtype or inconsistent data.
    package init(proto: Onnx_TensorProto, baseDirectory: URL? = nil) throws {
        let name = proto.name.isEmpty ? "(unnamed)" : "'\(proto.name)'"
        guard let dtype = RuntimeTensor.dtype(onnx: proto.dataType) else {
            throw PruneError(
                .unsupported, "tensor \(name) has data type \(RuntimeTensor.onnxTypeName(proto.dataType)), which the runtime does not support")
        }
        let shape = proto.dims.map { Int($0) }
        guard let count = Tensor.checkedElementCount(shape) else {
            throw PruneError(.corruptFile, "tensor \(name) has invalid dims \(shape)")
        }
        self.init(uninitialized: dtype, shape: shape)
        let byteCount = count * dtype.byteSize
        let destination = raw
        func copyRaw(_ data: Data) throws {
            guard data.count == byteCount else {
                throw PruneError(.corruptFile, "tensor \(name) holds \(data.count) bytes, its shape \(shape) needs \(byteCount)")
            }
            data.withUnsafeBytes { if let base = $0.baseAddress { destination.copyMemory(from: base, byteCount: byteCount) } }
        }
        if proto.dataLocation == .external {
            try copyRaw(RuntimeTensor.externalData(proto, name: name, baseDirectory: baseDirectory))
            return
        }
        if proto.hasRawData {
            try copyRaw(proto.rawData)
            return
        }
        func check(_ available: Int) throws {
            guard available == count else {
                throw PruneError(.corruptFile, "tensor \(name) holds \(available) values, its shape \(shape) needs \(count)")
            }
        }
        switch dtype {
        case .f32:
            try check(proto.floatData.count)
            for i in 0..<count { f32[i] = proto.floatData[i] }
        case .i64:
            try check(proto.int64Data.count)
            for i in 0..<count { i64[i] = proto.int64Data[i] }
        case .i32:
            try check(proto.int32Data.count)
            let p = raw.assumingMemoryBound(to: Int32.self)
            for i in 0..<count { p[i] = proto.int32Data[i] }
        case .bool:
            try check(proto.int32Data.count)
            for i in 0..<count { u8[i] = proto.int32Data[i] == 0 ? 0 : 1 }
        case .f64:
            try check(proto.doubleData.count)
            let p = raw.assumingMemoryBound(to: Double.self)
            for i in 0..<count { p[i] = proto.doubleData[i] }
        default:
            break
        }
    }

    private static func externalData(_ proto: Onnx_TensorProto, name: String, baseDirectory: URL?) throws -> Data {
        var location = ""
        var offset = 0
        var length: Int?
        for entry in proto.externalData {
            switch entry.key {
            case "location": location = entry.value
            case "offset": offset = Int(entry.value) ?? 0
            case "length": length = Int(entry.value)
            default: break
            }
        }
        guard let baseDirectory, !location.isEmpty else {
            throw PruneError(.fileUnreadable, "tensor \(name) stores its data externally but no model directory is known")
        }
        let url = baseDirectory.appendingPathComponent(location)
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
            throw PruneError(.fileUnreadable, "cannot read external data '\(location)' of tensor \(name)")
        }
        let end = length.map { offset + $0 } ?? data.count
        guard offset >= 0, end <= data.count, offset <= end else {
            throw PruneError(.corruptFile, "external data of tensor \(name) lies outside '\(location)'")
        }
        return data.subdata(in: offset..<end)
    }
}

/// Reading serialized `TensorProto` files (the ONNX backend test data format).
extension RuntimeTensor {
    /// Reads a file holding one serialized `TensorProto`; returns the tensor and its stored name.
    ///
    /// - Throws: `PruneError` when the file is unreadable, not a tensor, or of a dtype the runtime does not hold.
    package static func load(tensorProtoAt url: URL) throws -> (name: String, tensor: RuntimeTensor) {
        guard let data = try? Data(contentsOf: url) else {
            throw PruneError(.fileUnreadable, "cannot read '\(url.path)'")
        }
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: data)
        } catch {
            throw PruneError(.corruptFile, "'\(url.lastPathComponent)' is not a TensorProto: \(error)")
        }
        return (proto.name, try RuntimeTensor(proto: proto, baseDirectory: url.deletingLastPathComponent()))
    }
}
