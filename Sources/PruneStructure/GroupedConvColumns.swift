import ONNXProto
import PruneCore

/// The input side of a grouped Conv whose input channels were removed: inside each convolution group, the weight
/// columns of that group's removed input channels go (the rows of its removed output channels are already gone).
enum GroupedConvColumns {
    /// Removes, from the rows of each convolution group of `node`'s weight, the in-group positions of the input
    /// channels in `removed` (indices in the original input).
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the node when the groups lose different numbers of input
    ///   channels (the weight must stay rectangular).
    static func remove(
        _ removed: Set<Int>, from node: Onnx_NodeProto, groups: Int, perGroup: Int, model: inout Model
    ) throws {
        let positions = (0..<groups).map { g in
            removed.filter { $0 / perGroup == g }.map { $0 - g * perGroup }.sorted()
        }
        guard Set(positions.map(\.count)).count == 1, let lost = positions.first?.count else {
            throw PruneError(
                .invalidInput,
                "node '\(node.name)' (Conv): grouped convolution (group=\(groups)) would lose "
                    + "\(positions.map(\.count)) input channels per group; every group must lose as many")
        }
        guard lost > 0 else { return }
        let name = node.input[1]
        let weight = try model.parameter(named: name).tensor
        let rows = weight.shape[0]
        let inner = weight.shape.dropFirst(2).reduce(1, *)
        let rowsPerGroup = rows / groups
        let elementSize = weight.dtype.byteSize
        let keptColumns = perGroup - lost
        var source = [UInt8]()
        source.reserveCapacity(weight.byteCount)
        weight.forEachByteChunk { source.append(contentsOf: $0) }
        var result = [UInt8]()
        result.reserveCapacity(rows * keptColumns * inner * elementSize)
        let span = inner * elementSize
        for row in 0..<rows {
            let dropped = Set(positions[row / rowsPerGroup])
            for column in 0..<perGroup where !dropped.contains(column) {
                let start = (row * perGroup + column) * span
                result.append(contentsOf: source[start..<(start + span)])
            }
        }
        let shape = [rows, keptColumns] + Array(weight.shape.dropFirst(2))
        let bytes = result.withUnsafeBytes { TensorBytes(copying: $0) }
        try model.setTensor(Tensor(dtype: weight.dtype, shape: shape, bytes: bytes), for: name)
    }
}
