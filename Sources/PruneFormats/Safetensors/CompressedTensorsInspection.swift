import Foundation
import PruneCore

/// Recognises weights a safetensors file holds in a compressed-tensors sparse layout, for `prune inspect`.
///
/// A weight `p.weight` stored compressed appears as the tensors `p.shape`, `p.compressed` and `p.bitmask` (plus
/// `p.row_offsets` in `sparse-bitmask`); the format is the `sparsity_config.format` of the `config.json` beside
/// the file when there is one, else `sparse-bitmask` when row offsets are present and `sparse-24-bitmask` otherwise.
package struct CompressedTensorsInspection {
    /// One weight stored compressed.
    package struct Weight: Equatable {
        /// `p.weight`.
        package var name: String
        /// The format.
        package var format: String
        /// The dense shape (from `p.shape`).
        package var shape: [Int]
        /// The dtype of the values.
        package var dtype: DType
        /// The non-zeros the bitmask marks.
        package var nonzeros: Int
        /// Bytes of its parts in the file.
        package var storedBytes: Int
    }

    /// The compressed weights, in file order of their `compressed` part.
    package var weights: [Weight] = []
    /// Parts that do not form a complete, consistent compressed weight, with the reason.
    package var problems: [String] = []

    /// Finds the compressed weights among `model`'s tensors; `configFormat` is `sparsity_config.format` when known.
    package init(model: Model, configFormat: String?) {
        let byName = Dictionary(model.parameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        for parameter in model.parameters where parameter.name.hasSuffix(".compressed") {
            let prefix = String(parameter.name.dropLast(".compressed".count))
            guard let shapeTensor = byName[prefix + ".shape"], let bitmask = byName[prefix + ".bitmask"] else { continue }
            let offsets = byName[prefix + ".row_offsets"]
            let format = configFormat ?? (offsets == nil ? "sparse-24-bitmask" : "sparse-bitmask")
            guard shapeTensor.dtype == .i64, shapeTensor.elementCount == 2, bitmask.dtype == .u8 else {
                problems.append("\(prefix): its shape or bitmask tensor has the wrong type or size")
                continue
            }
            let raw = shapeTensor.bytes.raw
            let shape = (0..<2).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            guard shape.allSatisfy({ $0 >= 0 }), bitmask.shape == [shape[0], (shape[1] + 7) / 8] else {
                problems.append("\(prefix): bitmask \(bitmask.shape) does not fit shape \(shape)")
                continue
            }
            var nonzeros = 0
            bitmask.forEachByteChunk { chunk in for byte in chunk { nonzeros += byte.nonzeroBitCount } }
            let parts = [parameter.tensor, shapeTensor, bitmask] + (offsets.map { [$0] } ?? [])
            weights.append(
                Weight(
                    name: prefix + ".weight", format: format, shape: shape, dtype: parameter.tensor.dtype,
                    nonzeros: nonzeros, storedBytes: parts.reduce(0) { $0 + $1.byteCount }))
        }
    }

    /// `sparsity_config.format` from the `config.json` beside `url`, when it has one.
    package static func configFormat(beside url: URL) -> String? {
        guard let sparsity = compressionConfig(beside: url)?["sparsity_config"] as? [String: Any] else { return nil }
        return sparsity["format"] as? String
    }

    /// The `quantization_config` (or older `compression_config`) object of the `config.json` beside `url`: a regular
    /// file under 16 MiB that parses as JSON; nil otherwise. The one reader of that file for inspection.
    package static func compressionConfig(beside url: URL) -> [String: Any]? {
        let config = url.deletingLastPathComponent().appending(path: "config.json")
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: config.path),
            (attributes[.type] as? FileAttributeType) == .typeRegular,
            let size = attributes[.size] as? Int, size < 16 << 20,
            let data = try? Data(contentsOf: config),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return (object["quantization_config"] ?? object["compression_config"]) as? [String: Any]
    }

    /// The `Compressed weights` section, or nil when the file has none.
    package func section() -> InspectionSection? {
        guard !weights.isEmpty || !problems.isEmpty else { return nil }
        var rows = weights.map { weight -> [String] in
            let dense = weight.shape.reduce(1, *) * weight.dtype.byteSize
            let density = weight.shape.reduce(1, *) == 0 ? 0 : Double(weight.nonzeros) / Double(weight.shape.reduce(1, *))
            return [
                weight.name, weight.format, weight.dtype.rawValue,
                "[" + weight.shape.map(String.init).joined(separator: ", ") + "]", String(weight.nonzeros),
                String(format: "%.2f%%", (1 - density) * 100), String(weight.storedBytes), String(dense),
            ]
        }
        rows += problems.map { [$0, "invalid", "", "", "", "", "", ""] }
        return InspectionSection(
            title: "Compressed weights (compressed-tensors)",
            columns: ["weight", "format", "dtype", "shape", "non-zeros", "sparsity", "stored bytes", "dense bytes"],
            rows: rows)
    }
}
