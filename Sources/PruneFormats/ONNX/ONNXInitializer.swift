import Foundation
import ONNXProto
import PruneCore

/// One initializer of the main graph as read: where its bytes are and whether it is exposed as a parameter.
package struct ONNXInitializer: Sendable {
    /// Where an initializer's values are stored.
    package enum Storage: Sendable {
        /// Inline `raw_data`, cut out of the decoded message and left in the mapped model file.
        case rawMapped(MappedFile, Range<Int>)
        /// Inline `raw_data` still inside the decoded message (files the skeleton reader could not walk).
        case rawInMessage
        /// The typed value fields (`float_data`, `int32_data`, …), or no data at all.
        case typed
        /// A range of a mapped side file.
        case external(MappedFile, Range<Int>, ExternalDataReference)
        /// A `sparse_initializer` (coordinate list), densified when the file was opened; `storedBytes` counts its
        /// values and indices, `coordinates` says whether the indices were `[NNZ, rank]` rather than linear.
        case sparse(nonzeros: Int, storedBytes: Int, coordinates: Bool)
    }

    /// The initializer's name.
    package var name: String
    /// Its ONNX element type (`TensorProto.data_type`).
    package var dataType: Int32
    /// Its dimensions.
    package var dims: [Int64]
    /// Where its values are.
    package var storage: Storage
    /// The index of its parameter in the document's model, when exposed.
    package var parameterIndex: Int?
    /// Why it is not exposed as a parameter, when it is not.
    package var hiddenReason: String?

    /// Whether the values live in a side file.
    package var isExternal: Bool {
        if case .external = storage { return true }
        return false
    }

    /// A short description of the storage for `prune inspect`.
    package var storageDescription: String {
        switch storage {
        case .rawMapped, .rawInMessage: "raw_data"
        case .typed: "typed fields"
        case .external(_, let range, let reference): "external \(reference.location) @\(range.lowerBound)"
        case .sparse(let nonzeros, let bytes, let coordinates):
            "sparse COO (\(nonzeros) non-zeros, \(coordinates ? "[NNZ, rank]" : "linear") INT64 indices, \(bytes) bytes)"
        }
    }

    /// Reads entry `index` of `graph.initializer` into an initializer and, when PruneKit handles its type, a tensor.
    ///
    /// - Parameters:
    ///   - raw: the file range of its `raw_data` payload, when it was cut out of the message.
    ///   - modelPath: the model file, for error messages.
    /// - Throws: `PruneError` naming the model file and the tensor for negative dimensions, data that does not
    ///   match the shape and type, and every external-data problem ``ExternalDataResolver`` reports.
    package static func read(
        _ proto: Onnx_TensorProto, raw: Range<Int>?, file: MappedFile, resolver: inout ExternalDataResolver,
        modelPath: String
    ) throws -> (ONNXInitializer, Tensor?) {
        let name = proto.name
        func corrupt(_ why: String) -> PruneError { PruneError(.corruptFile, "\(modelPath): tensor '\(name)': \(why)") }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }),
            let count = Tensor.checkedElementCount(proto.dims.map { Int($0) })
        else { throw corrupt("dims \(proto.dims) are negative or too large") }
        let shape = proto.dims.map { Int($0) }
        var dtype = ONNXDataType.dtype(proto.dataType)
        var hiddenReason: String? = nil
        if dtype == nil {
            hiddenReason = "element type \(ONNXDataType.name(proto.dataType)) is not one PruneKit reads"
        } else if proto.hasSegment {
            hiddenReason = "stored as a segment of a larger tensor"
            dtype = nil
        } else if name.isEmpty {
            hiddenReason = "it has no name"
            dtype = nil
        }
        let byteCount = dtype.flatMap {
            count.multipliedReportingOverflow(by: $0.byteSize).overflow ? nil : count * $0.byteSize
        }
        if dtype != nil, byteCount == nil { throw corrupt("dims \(proto.dims) are too large") }
        if dtype != nil {
            do {
                try AllocationBudget.checkWorkingCopy(shape: shape)
            } catch {
                throw PruneError(.unsupported, "\(modelPath): tensor '\(name)': shape \(shape) as float32 \(error)")
            }
        }
        let typeName = ONNXDataType.name(proto.dataType)

        let storage: Storage
        var tensor: Tensor? = nil
        if proto.hasDataLocation, proto.dataLocation == .external {
            if raw != nil || proto.hasRawData { throw corrupt("has both raw_data and external data") }
            let reference = try ExternalDataReference(
                entries: proto.externalData.map { ($0.key, $0.value) }, tensor: name, modelPath: modelPath)
            let (side, range) = try resolver.bytes(of: reference, tensor: name, expectedBytes: byteCount)
            storage = .external(side, range, reference)
            if let dtype { tensor = Tensor(dtype: dtype, shape: shape, bytes: TensorBytes(mapped: side, range: range)) }
        } else if let raw {
            if let dtype, let byteCount {
                guard raw.count == byteCount else {
                    throw corrupt(
                        "raw_data holds \(raw.count) bytes, but shape \(shape) of \(typeName) needs \(byteCount)")
                }
                tensor = Tensor(dtype: dtype, shape: shape, bytes: TensorBytes(mapped: file, range: raw))
            }
            storage = .rawMapped(file, raw)
        } else if proto.hasRawData {
            if let dtype, let byteCount {
                let data = proto.rawData
                guard data.count == byteCount else {
                    throw corrupt(
                        "raw_data holds \(data.count) bytes, but shape \(shape) of \(typeName) needs \(byteCount)")
                }
                tensor = Tensor(dtype: dtype, shape: shape, bytes: data.withUnsafeBytes { TensorBytes(copying: $0) })
            }
            storage = .rawInMessage
        } else {
            if let dtype {
                switch ONNXDataType.tensor(fromTypedFields: proto, dtype: dtype, shape: shape) {
                case .success(let values): tensor = values
                case .failure(let mismatch):
                    throw corrupt(
                        "\(mismatch.field) holds \(mismatch.found) values, but shape \(shape) of \(typeName) "
                            + "needs \(mismatch.expected)")
                }
            }
            storage = .typed
        }
        let initializer = ONNXInitializer(
            name: name, dataType: proto.dataType, dims: proto.dims, storage: storage, parameterIndex: nil,
            hiddenReason: hiddenReason)
        return (initializer, tensor)
    }
}
