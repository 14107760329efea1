import Foundation
import ONNXProto
import PruneCore

/// Decoding ONNX `SparseTensorProto` messages (`sparse_initializer`).
extension RuntimeTensor {
    /// Densifies a sparse initializer of the model file `modelURL`: its values and indices are decoded like any
    /// tensor (external data included), then scattered by ``SparseStorage/scatter(values:dtype:indices:columns:shape:into:)``,
    /// the densifier PruneFormats uses too, after the dense size has passed the allocation budget.
    ///
    /// - Throws: `PruneError` naming the model file and the tensor for values that are not 1-D, indices that are
    ///   not INT64 `[NNZ]` or `[NNZ, rank]`, out-of-range or unordered indices, a dense size over budget, and
    ///   everything ``init(proto:modelURL:)`` reports.
    package init(sparse: Onnx_SparseTensorProto, modelURL: URL? = nil) throws {
        let prefix = modelURL.map { "\($0.path): " } ?? ""
        let name = sparse.values.name
        func corrupt(_ why: String) -> PruneError {
            PruneError(.corruptFile, "\(prefix)sparse initializer '\(name)': \(why)")
        }
        guard sparse.dims.allSatisfy({ $0 >= 0 }) else { throw corrupt("dims \(sparse.dims) are negative") }
        guard sparse.values.dims.count == 1 else { throw corrupt("values have dims \(sparse.values.dims); expected [NNZ]") }
        guard sparse.indices.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue) else {
            throw corrupt("indices have type \(RuntimeTensor.onnxTypeName(sparse.indices.dataType)); ONNX requires INT64")
        }
        let shape = sparse.dims.map { Int($0) }
        let values = try RuntimeTensor(proto: sparse.values, modelURL: modelURL)
        var indicesProto = sparse.indices
        indicesProto.name = name + " (indices)"
        let indices = try RuntimeTensor(proto: indicesProto, modelURL: modelURL)
        let columns: Int
        switch indices.shape.count {
        case 1: columns = 1
        case 2: columns = indices.shape[1]
        default: throw corrupt("indices have dims \(indices.shape); expected [NNZ] or [NNZ, rank]")
        }
        guard indices.shape[0] == values.count else {
            throw corrupt("it has \(values.count) values but \(indices.shape[0]) indices")
        }
        do {
            let byteCount = try SparseStorage.denseByteCount(dtype: values.dtype, shape: shape)
            self.init(uninitialized: values.dtype, shape: shape)
            try SparseStorage.scatter(
                values: UnsafeRawBufferPointer(start: values.raw, count: values.count * values.dtype.byteSize),
                dtype: values.dtype, indices: UnsafeBufferPointer(start: indices.i64, count: indices.count),
                columns: columns, shape: shape, into: UnsafeMutableRawBufferPointer(start: raw, count: byteCount))
        } catch {
            throw corrupt(error.reason)
        }
    }
}
