import Foundation
import PruneCore

/// Recognises weights a safetensors file holds in a compressed-tensors quantised layout, for `prune inspect`.
///
/// A weight `p.weight` is quantised when `p.weight_scale` (rank 2) is present with `p.weight` (I8: `int-quantized`),
/// `p.weight_packed` and `p.weight_shape` (I32 words: `pack-quantized`), or — int8 values stored sparse — `p.shape`
/// and `p.compressed` (I8). Bits and group size come from the `config.json` beside the file when it has a
/// `quantization_config` with one config group; otherwise 8 bits for int8 values, 4 for packed words, and the group
/// size as the library infers it (columns / scale columns).
package struct CompressedTensorsQuantizedInspection {
    /// One quantised weight.
    package struct Weight: Equatable {
        /// `p.weight`.
        package var name: String
        /// `int-quantized`, `pack-quantized`, or `int-quantized, sparse-bitmask` (…`sparse-24-bitmask`).
        package var format: String
        /// Bits per value.
        package var bits: Int
        /// Columns per scale; 0 for one scale per row.
        package var groupSize: Int
        /// The dense shape `[rows, cols]`.
        package var shape: [Int]
        /// Bytes of its parts in the file (values, scales, shape, bitmask, offsets).
        package var storedBytes: Int
    }

    /// The quantised weights, in file order of their scales.
    package var weights: [Weight] = []

    /// Finds the quantised weights among `model`'s tensors; `scheme` is the config's `(num_bits, group_size)` when
    /// known.
    package init(model: Model, scheme: (bits: Int, groupSize: Int)?) {
        let byName = Dictionary(model.parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        for parameter in model.parameters where parameter.name.hasSuffix(".weight_scale") {
            let scale = parameter.tensor
            let prefix = String(parameter.name.dropLast("weight_scale".count))
            guard scale.shape.count == 2, scale.shape[1] > 0 else { continue }
            var parts = [scale]
            var shape: [Int]
            var format: String
            var bits: Int
            if let values = byName[prefix + "weight"], values.dtype == .i8, values.shape.count == 2 {
                (shape, format, bits) = (values.shape, "int-quantized", 8)
                parts.append(values)
            } else if let packed = byName[prefix + "weight_packed"], packed.dtype == .i32,
                let dims = byName[prefix + "weight_shape"], let read = Self.shape(dims)
            {
                (shape, format, bits) = (read, "pack-quantized", 4)
                parts += [packed, dims]
            } else if let values = byName[prefix + "compressed"], values.dtype == .i8,
                let dims = byName[prefix + "shape"], let read = Self.shape(dims), let bitmask = byName[prefix + "bitmask"]
            {
                let offsets = byName[prefix + "row_offsets"]
                (shape, bits) = (read, 8)
                format = "int-quantized, " + (offsets == nil ? "sparse-24-bitmask" : "sparse-bitmask")
                parts += [values, dims, bitmask] + (offsets.map { [$0] } ?? [])
            } else {
                continue
            }
            if let scheme { bits = scheme.bits }
            let groupSize = scheme?.groupSize ?? (scale.shape[1] == 1 ? 0 : shape[1] / scale.shape[1])
            weights.append(
                Weight(
                    name: prefix + "weight", format: format, bits: bits, groupSize: groupSize, shape: shape,
                    storedBytes: parts.reduce(0) { $0 + $1.byteCount }))
        }
    }

    private static func shape(_ tensor: Tensor) -> [Int]? {
        guard tensor.elementCount == 2, tensor.dtype == .i64 || tensor.dtype == .i32 else { return nil }
        let raw = tensor.bytes.raw
        let dims =
            tensor.dtype == .i64
            ? (0..<2).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            : (0..<2).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        return dims.allSatisfy { $0 >= 0 } ? dims : nil
    }

    /// `(num_bits, group_size)` of the single config group in the `config.json` beside `url`, when it has one.
    package static func configScheme(beside url: URL) -> (bits: Int, groupSize: Int)? {
        guard let quantization = CompressedTensorsInspection.compressionConfig(beside: url),
            let groups = quantization["config_groups"] as? [String: Any], groups.count == 1,
            let group = groups.values.first as? [String: Any], let weights = group["weights"] as? [String: Any],
            let bits = weights["num_bits"] as? Int
        else { return nil }
        return (bits, weights["group_size"] as? Int ?? 0)
    }

    /// The `Quantised weights` section, or nil when the file has none.
    package func section() -> InspectionSection? {
        guard !weights.isEmpty else { return nil }
        return InspectionSection(
            title: "Quantised weights (compressed-tensors)",
            columns: ["weight", "format", "bits", "group", "shape", "stored bytes", "f32 bytes"],
            rows: weights.map { weight in
                [
                    weight.name, weight.format, String(weight.bits),
                    weight.groupSize == 0 ? "per channel" : String(weight.groupSize),
                    "[" + weight.shape.map(String.init).joined(separator: ", ") + "]", String(weight.storedBytes),
                    String(weight.shape.reduce(1, *) * 4),
                ]
            })
    }
}
