import Foundation
import PruneCore

/// The quantised layouts of the compressed-tensors library (`int-quantized`, `pack-quantized`), as its
/// `IntQuantizationCompressor` and `PackedQuantizationCompressor` write them, and the quantisation half of the
/// `quantization_config` its `ModelCompressor` puts into a Hugging Face `config.json`.
///
/// A Linear weight `p.weight` of shape `[rows, cols]` (PyTorch's `[out, in]`), quantised symmetrically with one scale
/// per row (`strategy: channel`) or per row and group of `g` columns (`strategy: group`), is stored as
/// - `int-quantized` (8 bits): `p.weight` (I8 `[rows, cols]`, the levels) and `p.weight_scale` (F32 `[rows, 1]` or
///   `[rows, cols/g]`);
/// - `pack-quantized` (4 bits): `p.weight_packed` (I32 `[rows, ⌈cols/8⌉]`: level + 8 in each nibble, eight to a word,
///   the first column in the lowest bits — `pack_to_int32`), `p.weight_scale` as above and `p.weight_shape`
///   (I64 `[2]`, what `torch.tensor(weight.shape)` gives).
///
/// A symmetric scheme stores no zero point. The library reads a weight back as level × scale, inferring the group
/// size as `cols / scale.shape[1]`, so a grouped weight must have a whole number of groups per row.
package enum CompressedTensorsQuantization {
    /// The parts an `int-quantized` weight is stored as (besides `p.weight`).
    package static let intParts = ["weight", "weight_scale"]
    /// The parts a `pack-quantized` weight is stored as.
    package static let packedParts = ["weight_packed", "weight_scale", "weight_shape"]

    /// The format the library uses for a bit width: `int-quantized` for 8, `pack-quantized` for 4.
    package static func format(bits: Int) -> String { bits == 4 ? "pack-quantized" : "int-quantized" }

    /// Refuses, naming the weight, what the library cannot read back: a weight not named `….weight`, not rank 2,
    /// or grouped with a column count that is not a multiple of the group size.
    ///
    /// - Throws: `PruneError.Kind.unsupported`.
    package static func check(_ name: String, shape: [Int], bits: Int, groupSize: Int) throws {
        guard name.hasSuffix(".weight"), name.count > ".weight".count else {
            throw PruneError(
                .unsupported,
                "'quantize': safetensors weight '\(name)' is not named '<module>.weight', so compressed-tensors "
                    + "cannot attach scales to it; exclude it from the stage")
        }
        guard shape.count == 2 else {
            throw PruneError(
                .unsupported,
                "'quantize': safetensors weight '\(name)' has rank \(shape.count); compressed-tensors stores "
                    + "quantised Linear weights (rank 2) only; exclude it from the stage")
        }
        guard bits == 8 || bits == 4 else {
            throw PruneError(.unsupported, "'quantize': weight '\(name)': \(bits) bits is not a compressed-tensors int format")
        }
        if groupSize > 0, shape[1] % groupSize != 0 {
            throw PruneError(
                .unsupported,
                "'quantize': weight '\(name)' has \(shape[1]) columns, not a multiple of group=\(groupSize); "
                    + "compressed-tensors reads whole groups only")
        }
    }

    /// Replaces the float weight `name` of `model` by its compressed-tensors parts and records them in
    /// `model.quantizedWeights`.
    ///
    /// - Parameters:
    ///   - levels: the integers, row-major in the weight's shape, within the bit width's range.
    ///   - scales: one per row (`groupSize` 0) or per row and group, row-major.
    /// - Throws: as ``check(_:shape:bits:groupSize:)``, and `.invalidInput` when a part's name is taken.
    package static func store(
        _ name: String, levels: [Int8], scales: [Float], bits: Int, groupSize: Int, in model: inout Model
    ) throws {
        let shape = try model.parameter(named: name).tensor.shape
        try check(name, shape: shape, bits: bits, groupSize: groupSize)
        let (rows, columns) = (shape[0], shape[1])
        let scaleColumns = groupSize == 0 ? 1 : columns / groupSize
        precondition(levels.count == rows * columns && scales.count == rows * scaleColumns, "levels or scales miscounted")
        let prefix = String(name.dropLast("weight".count))
        for part in (bits == 4 ? packedParts : ["weight_scale"]) where model[prefix + part] != nil {
            throw PruneError(.invalidInput, "'quantize': weight '\(name)': the model already has '\(prefix + part)'")
        }
        let scaleTensor = Tensor(shape: [rows, scaleColumns], values: scales)
        var parts: [String]
        if bits == 8 {
            try model.setTensor(
                try Tensor(dtype: .i8, shape: shape, bytes: levels.map { UInt8(bitPattern: $0) }), for: name)
            try model.addParameter(Parameter(name: prefix + "weight_scale", tensor: scaleTensor))
            parts = [name, prefix + "weight_scale"]
        } else {
            let packed = packInt32(levels, rows: rows, columns: columns, bits: bits)
            model.removeParameter(named: name)
            let packedBytes = packed.flatMap { word in withUnsafeBytes(of: word.littleEndian) { Array($0) } }
            let shapeBytes = [Int64(rows), Int64(columns)].flatMap { value in
                withUnsafeBytes(of: value.littleEndian) { Array($0) }
            }
            try model.addParameter(
                Parameter(
                    name: prefix + "weight_packed",
                    tensor: try Tensor(dtype: .i32, shape: [rows, packedColumns(columns, bits: bits)], bytes: packedBytes)))
            try model.addParameter(Parameter(name: prefix + "weight_scale", tensor: scaleTensor))
            try model.addParameter(
                Parameter(name: prefix + "weight_shape", tensor: try Tensor(dtype: .i64, shape: [2], bytes: shapeBytes)))
            parts = packedParts.map { prefix + $0 }
        }
        model.quantizedWeights[name] = QuantizedWeight(
            name: name, shape: shape, bits: bits, groupSize: groupSize, format: format(bits: bits), parts: parts,
            zeros: levels.reduce(0) { $0 + ($1 == 0 ? 1 : 0) })
    }

    /// Words per row of a packed weight: ⌈cols / (32 / bits)⌉.
    package static func packedColumns(_ columns: Int, bits: Int) -> Int {
        let perWord = 32 / bits
        return (columns + perWord - 1) / perWord
    }

    /// compressed-tensors' `pack_to_int32` along rows: each level plus 2^(bits−1) (unsigned) in `bits` bits, `32/bits`
    /// to a word, the first column in the lowest bits; a row's last word is padded with zero bits.
    package static func packInt32(_ levels: [Int8], rows: Int, columns: Int, bits: Int) -> [Int32] {
        let perWord = 32 / bits
        let words = packedColumns(columns, bits: bits)
        let offset = 1 << (bits - 1)
        let mask = UInt32((1 << bits) - 1)
        var packed = [Int32](repeating: 0, count: rows * words)
        for row in 0..<rows {
            for column in 0..<columns {
                let unsigned = UInt32(Int(levels[row * columns + column]) + offset) & mask
                let word = row * words + column / perWord
                packed[word] = Int32(bitPattern: UInt32(bitPattern: packed[word]) | unsigned << ((column % perWord) * bits))
            }
        }
        return packed
    }

    /// The inverse of ``packInt32(_:rows:columns:bits:)`` (`unpack_from_int32`): the signed levels of a packed weight.
    package static func unpackInt32(_ packed: [Int32], rows: Int, columns: Int, bits: Int) -> [Int8] {
        let perWord = 32 / bits
        let words = packedColumns(columns, bits: bits)
        let offset = 1 << (bits - 1)
        let mask = UInt32((1 << bits) - 1)
        var levels = [Int8](repeating: 0, count: rows * columns)
        for row in 0..<rows {
            for column in 0..<columns {
                let word = UInt32(bitPattern: packed[row * words + column / perWord])
                levels[row * columns + column] = Int8(Int((word >> ((column % perWord) * bits)) & mask) - offset)
            }
        }
        return levels
    }
}

extension CompressedTensorsQuantization {
    /// The quantisation keys of `quantization_config`: one config group holding every quantised weight's module.
    package struct Config: Sendable, Equatable {
        /// `int-quantized` or `pack-quantized`.
        package var format: String
        /// Bits per value.
        package var bits: Int
        /// Columns per scale; 0 for one scale per row (`strategy: channel`).
        package var groupSize: Int
        /// Module names (weight names without `.weight`), sorted.
        package var targets: [String]

        /// The config of the compressed-tensors weights `model` holds, nil when it holds none.
        ///
        /// - Throws: `PruneError.Kind.unsupported` naming a weight whose scheme differs from the others' (one
        ///   compressed-tensors format and scheme per file).
        package init?(_ model: Model) throws {
            let weights = model.quantizedWeights.values
                .filter { $0.format == "int-quantized" || $0.format == "pack-quantized" }
                .sorted { $0.name < $1.name }
            guard let first = weights.first else { return nil }
            if let other = weights.first(where: { $0.bits != first.bits || $0.groupSize != first.groupSize }) {
                throw PruneError(
                    .unsupported,
                    "weight '\(other.name)' is quantised as \(Self.describe(other)) but '\(first.name)' as "
                        + "\(Self.describe(first)); a compressed-tensors file holds one scheme, so nothing was written")
            }
            format = first.format
            bits = first.bits
            groupSize = first.groupSize
            targets = weights.map { String($0.name.dropLast(".weight".count)) }
        }

        private static func describe(_ weight: QuantizedWeight) -> String {
            "int\(weight.bits) " + (weight.groupSize == 0 ? "per channel" : "in groups of \(weight.groupSize)")
        }

        /// The keys `ModelCompressor.update_config` writes for this scheme (as compressed-tensors 0.14.0.1's
        /// `QuantizationConfig.model_dump` spells them), to merge into `quantization_config`.
        package var keys: [String: Any] {
            let weights: [String: Any] = [
                "actorder": NSNull(), "block_structure": NSNull(), "dynamic": false,
                "group_size": groupSize == 0 ? NSNull() : groupSize as Any, "num_bits": bits,
                "observer": "memoryless_minmax", "observer_kwargs": [String: Any](), "scale_dtype": NSNull(),
                "strategy": groupSize == 0 ? "channel" : "group", "symmetric": true, "type": "int",
                "zp_dtype": NSNull(),
            ]
            let group: [String: Any] = [
                "format": NSNull(), "input_activations": NSNull(), "output_activations": NSNull(),
                "targets": targets, "weights": weights,
            ]
            return [
                "config_groups": ["group_0": group], "format": format, "global_compression_ratio": NSNull(),
                "ignore": [String](), "kv_cache_scheme": NSNull(), "quantization_status": "compressed",
            ]
        }
    }
}
