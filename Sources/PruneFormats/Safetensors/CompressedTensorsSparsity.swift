import Foundation
import PruneCore

/// The sparse layouts of the compressed-tensors library (`sparse-bitmask`, `sparse-24-bitmask`), as its
/// `BitmaskCompressor` and `Sparse24BitMaskCompressor` write them, and the `sparsity_config` its `ModelCompressor`
/// puts into a Hugging Face `config.json` — so the library's own decompressor reads our files.
///
/// The library compresses the `.weight` of Linear layers: a weight `p.weight` of shape `[rows, cols]` is replaced by
/// - `sparse-bitmask`: `p.shape` (I64 `[2]`), `p.compressed` (the non-zeros in row-major order, 1-D, the weight's
///   dtype), `p.bitmask` (U8 `[rows, ⌈cols/8⌉]`, `numpy.packbits(bitorder="little")` of `weight != 0`) and
///   `p.row_offsets` (I64 `[rows]`, where each row starts in `compressed`);
/// - `sparse-24-bitmask`: `p.shape` (I64 `[2, 1]`), `p.compressed` (`[rows, cols/2]`: two values of every group of
///   four) and `p.bitmask` as above.
///
/// The last library release that reads these formats is compressed-tensors 0.14.0.1 (later releases dropped the
/// sparse compressors); the `version` written into `config.json` names it.
package enum CompressedTensorsSparsity {
    /// The compressed-tensors release whose layout this writes.
    package static let libraryVersion = "0.14.0.1"
    /// The parts a `sparse-bitmask` weight is stored as.
    package static let bitmaskParts = ["shape", "compressed", "bitmask", "row_offsets"]
    /// The parts a `sparse-24-bitmask` weight is stored as.
    package static let twoFourParts = ["shape", "compressed", "bitmask"]

    /// The `sparsity_config` object.
    package struct Config: Sendable, Equatable {
        /// `sparse-bitmask` or `sparse-24-bitmask`.
        package var format: String
        /// Module names (weight names without `.weight`) stored compressed.
        package var targets: [String]
        /// Zeros over all elements of the model.
        package var globalSparsity: Double
    }

    /// What to write: the file's entries, how each parameter is stored, and the config (nil when nothing is
    /// stored sparse).
    package struct Plan {
        var entries: [SafetensorsWriter.Entry]
        var stored: [StoredTensor]
        var config: Config?
    }

    /// Whether a parameter can be stored compressed: a rank-2 `….weight` holding floats, or the int8 levels of an
    /// `int-quantized` weight (the library compresses the quantised `weight` the same way, values int8).
    static func isEligible(_ parameter: Parameter, in model: Model) -> Bool {
        let floats = parameter.tensor.dtype.isFloatingPoint
        let levels = parameter.tensor.dtype == .i8 && model.quantizedWeights[parameter.name]?.format == "int-quantized"
        return parameter.name.hasSuffix(".weight") && parameter.name.count > ".weight".count
            && parameter.tensor.shape.count == 2 && (floats || levels) && parameter.tensor.elementCount > 0
    }

    /// The bytes of a weight in the bitmask layout.
    static func bitmaskBytes(rows: Int, columns: Int, nonzeros: Int, dtype: DType) -> Int {
        2 * 8 + nonzeros * dtype.byteSize + rows * ((columns + 7) / 8) + rows * 8
    }

    /// Decides which weights are stored compressed and in which format, and builds their parts.
    ///
    /// `.sparse` compresses every eligible weight that has a zero, `.auto` those whose bitmask layout is smaller
    /// than dense. When every chosen weight is 2:4 along its rows, the format is `sparse-24-bitmask` (no row
    /// offsets); otherwise `sparse-bitmask`.
    package static func plan(_ model: Model, storage: TensorStorage) -> Plan {
        let dense = Plan(
            entries: model.parameters.map(SafetensorsWriter.Entry.init), stored: model.parameters.map(StoredTensor.dense),
            config: nil)
        guard storage != .dense else { return dense }
        var chosen = Set<String>()
        var zeros = 0
        var elements = 0
        for parameter in model.parameters {
            let tensor = parameter.tensor
            let nonzeros = SparseStorage.nonzeroCount(of: tensor)
            zeros += tensor.elementCount - nonzeros
            elements += tensor.elementCount
            guard isEligible(parameter, in: model), nonzeros < tensor.elementCount else { continue }
            let sparseBytes = bitmaskBytes(
                rows: tensor.shape[0], columns: tensor.shape[1], nonzeros: nonzeros, dtype: tensor.dtype)
            if storage == .sparse || sparseBytes < tensor.byteCount { chosen.insert(parameter.name) }
        }
        guard !chosen.isEmpty else { return dense }
        var twoFour: [String: (values: [UInt8], bitmask: [UInt8])] = [:]
        for parameter in model.parameters where chosen.contains(parameter.name) {
            guard let form = SparseStorage.twoFour(of: parameter.tensor) else {
                twoFour = [:]
                break
            }
            twoFour[parameter.name] = form
        }
        let format = twoFour.isEmpty ? "sparse-bitmask" : "sparse-24-bitmask"
        var entries: [SafetensorsWriter.Entry] = []
        var stored: [StoredTensor] = []
        var targets: [String] = []
        for parameter in model.parameters {
            guard chosen.contains(parameter.name) else {
                entries.append(SafetensorsWriter.Entry(parameter))
                stored.append(.dense(parameter))
                continue
            }
            let tensor = parameter.tensor
            let prefix = String(parameter.name.dropLast(".weight".count))
            let (rows, columns) = (tensor.shape[0], tensor.shape[1])
            let shapeBytes = [Int64(rows), Int64(columns)].withUnsafeBytes { [UInt8]($0) }
            var parts: [SafetensorsWriter.Entry] = []
            let nonzeros: Int
            if let form = twoFour[parameter.name] {
                parts = [
                    .init(name: prefix + ".shape", dtype: .i64, shape: [2, 1], source: .bytes(shapeBytes)),
                    .init(name: prefix + ".compressed", dtype: tensor.dtype, shape: [rows, columns / 2], source: .bytes(form.values)),
                    .init(name: prefix + ".bitmask", dtype: .u8, shape: [rows, (columns + 7) / 8], source: .bytes(form.bitmask)),
                ]
                nonzeros = form.bitmask.reduce(0) { $0 + $1.nonzeroBitCount }
            } else {
                let form = SparseStorage.bitmask(of: tensor)
                nonzeros = form.values.count / tensor.dtype.byteSize
                parts = [
                    .init(name: prefix + ".shape", dtype: .i64, shape: [2], source: .bytes(shapeBytes)),
                    .init(name: prefix + ".compressed", dtype: tensor.dtype, shape: [nonzeros], source: .bytes(form.values)),
                    .init(name: prefix + ".bitmask", dtype: .u8, shape: [rows, (columns + 7) / 8], source: .bytes(form.bitmask)),
                    .init(
                        name: prefix + ".row_offsets", dtype: .i64, shape: [rows],
                        source: .bytes(form.rowOffsets.withUnsafeBytes { [UInt8]($0) })),
                ]
            }
            tensor.releaseResidentPages()
            entries += parts
            targets.append(prefix)
            stored.append(
                StoredTensor(
                    name: parameter.name, format: format, bytes: parts.reduce(0) { $0 + $1.byteCount },
                    nonzeros: nonzeros))
        }
        let config = Config(
            format: format, targets: targets.sorted(),
            globalSparsity: elements == 0 ? 0 : Double(zeros) / Double(elements))
        return Plan(entries: entries, stored: stored, config: config)
    }

    /// The `config.json` to write: `base` (the input's `config.json`, when there is one) with its
    /// `quantization_config` given the keys compressed-tensors' `ModelCompressor.update_config` writes
    /// (`quant_method`, `version`, `sparsity_config` — `{}` without sparse weights —, `transform_config` when
    /// absent, and with `quantization` its `config_groups`, `format`, `ignore`, …); other keys of `base`,
    /// including quantisation settings already under `quantization_config`, are kept. Sorted keys, indent 2.
    ///
    /// - Throws: `PruneError.Kind.corruptFile` naming `base` when it is not a JSON object of at most 16 MiB.
    package static func configJSON(
        _ config: Config?, quantization: CompressedTensorsQuantization.Config? = nil, base: URL?
    ) throws -> [UInt8] {
        var root: [String: Any] = [:]
        if let base {
            let data = try Data(contentsOf: base, options: .mappedIfSafe)
            guard data.count <= 16 << 20,
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else {
                throw PruneError(.corruptFile, "\(base.path): not a JSON object of at most 16 MiB")
            }
            root = object
        }
        var settings = root["quantization_config"] as? [String: Any] ?? [:]
        settings["quant_method"] = "compressed-tensors"
        settings["version"] = libraryVersion
        if settings["transform_config"] == nil { settings["transform_config"] = [String: Any]() }
        if let keys = quantization?.keys { settings.merge(keys) { $1 } }
        guard let config else {
            settings["sparsity_config"] = [String: Any]()
            return try encoded(root, settings)
        }
        settings["sparsity_config"] = [
            "format": config.format,
            "global_sparsity": config.globalSparsity,
            "ignore": [String](),
            "registry_requires_subclass": false,
            "sparsity_structure": config.format == "sparse-24-bitmask" ? "2:4" : "unstructured",
            "targets": config.targets,
        ] as [String: Any]
        return try encoded(root, settings)
    }

    private static func encoded(_ base: [String: Any], _ settings: [String: Any]) throws -> [UInt8] {
        var root = base
        root["quantization_config"] = settings
        let data = try JSONSerialization.data(
            withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return [UInt8](data) + [0x0A]
    }
}
