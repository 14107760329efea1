import Foundation
import ONNXProto
import PruneCore

/// ONNX's `GraphProto.sparse_initializer`: reading one into a dense parameter and encoding a tensor as one.
///
/// The ONNX IR (`SparseTensorProto`) stores a coordinate list: `values` (a 1-D tensor of NNZ elements, whose name
/// is the initializer's name), `indices` (INT64, either `[NNZ]` linear row-major indices or `[NNZ, rank]`
/// coordinates, ascending without duplicates) and `dims` (the dense shape). PruneKit writes the linear form (half
/// the index bytes of the coordinate form for a matrix); it reads both. The ONNX checker requires INT64 indices, so
/// a float32 tensor stored this way takes 12 bytes per non-zero: smaller than dense only below 1/3 density.
package enum ONNXSparseInitializer {
    /// The bytes a coordinate list of `nonzeros` elements of `dtype` takes in a file (values plus INT64 indices).
    package static func storedBytes(nonzeros: Int, dtype: DType) -> Int {
        nonzeros * (dtype.byteSize + 8)
    }

    /// Hoists every sparse initializer of `graph` into `graph.initializer` as a data-less placeholder (name, type,
    /// dims), so graph analysis, canonicalisation and the writer see one list; returns the sparse messages by name
    /// for ``read(_:file:resolver:modelPath:)``.
    ///
    /// - Throws: `PruneError.Kind.corruptFile` naming the model for a sparse initializer without a name or with the
    ///   name of another initializer.
    package static func hoist(_ graph: inout Onnx_GraphProto, modelPath: String) throws -> [String: Onnx_SparseTensorProto] {
        var sparse: [String: Onnx_SparseTensorProto] = [:]
        var names = Set(graph.initializer.map(\.name))
        for entry in graph.sparseInitializer {
            let name = entry.values.name
            guard !name.isEmpty else {
                throw PruneError(.corruptFile, "\(modelPath): a sparse initializer has no name (its values tensor is unnamed)")
            }
            guard names.insert(name).inserted else {
                throw PruneError(.corruptFile, "\(modelPath): two initializers are named '\(name)'")
            }
            var placeholder = Onnx_TensorProto()
            placeholder.name = name
            placeholder.dataType = entry.values.dataType
            placeholder.dims = entry.dims
            graph.initializer.append(placeholder)
            sparse[name] = entry
        }
        graph.sparseInitializer = []
        return sparse
    }

    /// Reads a sparse initializer as a dense tensor (densified once, here, with the allocation budget applied).
    ///
    /// - Throws: `PruneError` naming the model file and the tensor for an element type PruneKit does not read,
    ///   indices that are not INT64 or do not fit the shape, values that are not 1-D, and every problem of
    ///   ``SparseStorage/dense(values:dtype:indices:columns:shape:)`` and of external data.
    package static func read(
        _ sparse: Onnx_SparseTensorProto, file: MappedFile, resolver: inout ExternalDataResolver, modelPath: String
    ) throws -> (ONNXInitializer, Tensor) {
        let name = sparse.values.name
        func corrupt(_ why: String) -> PruneError {
            PruneError(.corruptFile, "\(modelPath): sparse initializer '\(name)': \(why)")
        }
        guard ONNXDataType.dtype(sparse.values.dataType) != nil else {
            throw PruneError(
                .unsupported,
                "\(modelPath): sparse initializer '\(name)': element type \(ONNXDataType.name(sparse.values.dataType)) "
                    + "is not one PruneKit reads")
        }
        guard sparse.dims.allSatisfy({ $0 >= 0 }) else { throw corrupt("dims \(sparse.dims) are negative") }
        let shape = sparse.dims.map { Int($0) }
        do {
            try AllocationBudget.checkWorkingCopy(shape: shape)
        } catch {
            throw PruneError(.unsupported, "\(modelPath): sparse initializer '\(name)': shape \(shape) as float32 \(error)")
        }
        guard sparse.values.dims.count == 1 else { throw corrupt("values have dims \(sparse.values.dims); expected [NNZ]") }
        var indicesProto = sparse.indices
        indicesProto.name = name + " (indices)"
        guard indicesProto.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue) else {
            throw corrupt("indices have type \(ONNXDataType.name(indicesProto.dataType)); ONNX requires INT64")
        }
        let (_, valuesTensor) = try ONNXInitializer.read(
            sparse.values, raw: nil, file: file, resolver: &resolver, modelPath: modelPath)
        let (_, indicesTensor) = try ONNXInitializer.read(
            indicesProto, raw: nil, file: file, resolver: &resolver, modelPath: modelPath)
        guard let valuesTensor, let indicesTensor else { throw corrupt("its values or indices cannot be read") }
        let nonzeros = valuesTensor.elementCount
        let columns: Int
        switch indicesTensor.shape.count {
        case 1: columns = 1
        case 2: columns = indicesTensor.shape[1]
        default: throw corrupt("indices have dims \(indicesTensor.shape); expected [NNZ] or [NNZ, rank]")
        }
        guard indicesTensor.shape[0] == nonzeros else {
            throw corrupt("it has \(nonzeros) values but \(indicesTensor.shape[0]) indices")
        }
        let raw = indicesTensor.bytes.raw
        let indices = (0..<indicesTensor.elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
        let dense: Tensor
        do {
            dense = try indices.withUnsafeBufferPointer { buffer throws(SparseStorage.Invalid) in
                try SparseStorage.dense(
                    values: valuesTensor.bytes.raw, dtype: valuesTensor.dtype, indices: buffer, columns: columns,
                    shape: shape)
            }
        } catch {
            throw corrupt(error.reason)
        }
        let stored = valuesTensor.byteCount + indicesTensor.byteCount
        let initializer = ONNXInitializer(
            name: name, dataType: sparse.values.dataType, dims: sparse.dims,
            storage: .sparse(nonzeros: nonzeros, storedBytes: stored, coordinates: columns > 1), parameterIndex: nil,
            hiddenReason: nil)
        return (initializer, dense)
    }

    /// `tensor` as a serialized `SparseTensorProto` named `name` (linear INT64 indices, `raw_data` payloads), and
    /// its number of non-zeros.
    package static func encode(_ tensor: Tensor, name: String) throws -> (message: [UInt8], nonzeros: Int) {
        let (indices, values) = SparseStorage.coordinateList(of: tensor)
        var sparse = Onnx_SparseTensorProto()
        sparse.dims = tensor.shape.map { Int64($0) }
        sparse.values.name = name
        sparse.values.dataType = ONNXDataType.onnxType(tensor.dtype)
        sparse.values.dims = [Int64(indices.count)]
        sparse.values.rawData = Data(values)
        sparse.indices.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        sparse.indices.dims = [Int64(indices.count)]
        sparse.indices.rawData = indices.withUnsafeBytes { Data($0) }
        return (try sparse.serializedBytes(), indices.count)
    }
}
