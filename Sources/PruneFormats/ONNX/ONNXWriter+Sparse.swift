import Foundation
import ONNXProto
import PruneCore

/// Choosing which initializers the writer stores as `sparse_initializer`.
extension ONNXWriter {
    /// `GraphProto.sparse_initializer`.
    static let sparseInitializerField = 15

    /// Takes the initializers `storage` stores sparsely out of `plan` and returns their serialized
    /// `SparseTensorProto`s and descriptions.
    ///
    /// Candidates are floating-point initializers with at least one zero that are not also declared graph inputs
    /// (IR < 4 overridable initializers stay dense). `.sparse` stores every candidate; `.auto` only those whose
    /// coordinate list (values plus 8-byte indices) is smaller than the dense bytes.
    static func moveToSparse(
        _ plan: inout [Planned], storage: TensorStorage, declaredInputs: Set<String>
    ) throws -> (messages: [[UInt8]], stored: [String: StoredTensor]) {
        guard storage != .dense else { return ([], [:]) }
        var messages: [[UInt8]] = []
        var stored: [String: StoredTensor] = [:]
        var kept: [Planned] = []
        for planned in plan {
            let name = planned.message.name
            guard let tensor = planned.tensor, tensor.dtype.isFloatingPoint, !tensor.shape.isEmpty,
                tensor.elementCount > 0, !declaredInputs.contains(name)
            else {
                kept.append(planned)
                continue
            }
            let nonzeros = SparseStorage.nonzeroCount(of: tensor)
            let sparseBytes = ONNXSparseInitializer.storedBytes(nonzeros: nonzeros, dtype: tensor.dtype)
            let chosen =
                switch storage {
                case .dense: false
                case .sparse: nonzeros < tensor.elementCount
                case .auto: sparseBytes < tensor.byteCount
                }
            guard chosen else {
                kept.append(planned)
                continue
            }
            let (message, count) = try ONNXSparseInitializer.encode(tensor, name: name)
            tensor.releaseResidentPages()
            messages.append(message)
            stored[name] = StoredTensor(name: name, format: "sparse-coo", bytes: sparseBytes, nonzeros: count)
        }
        plan = kept
        return (messages, stored)
    }
}
