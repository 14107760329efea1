import Foundation
import PruneCore
import PruneFormats

/// Saves and loads ``CalibrationStatistics`` as a safetensors file, so a sweep over sparsities calibrates once.
///
/// Each weight `W` contributes tensors named `W|input.square_sums` (F64, one per feature),
/// `W|input.count_groups` (I64 `[count, groups]`), optionally `W|input.sums` (F64, Σx per feature) and
/// `W|input.block_moments` (F64, ``BlockMoments/values``) with `W|input.block_width` (I64 `[width]`), `W|output.absolute_sums` (F64), `W|output.zero_counts` (I64)
/// and `W|output.count` (I64 `[count]`); the metadata holds the format version, the batch count and the
/// operator each weight's outputs were observed after (`prunekit.statistics.observed.W`).
public enum StatisticsFile {
    /// The metadata key marking a statistics file, with its format version as value.
    public static let formatKey = "prunekit.statistics"

    /// Writes `statistics` to `url` atomically.
    ///
    /// - Returns: bytes written.
    /// - Throws: `PruneError.Kind.outputExists` when `url` exists and `overwrite` is false.
    @discardableResult
    public static func save(_ statistics: CalibrationStatistics, to url: URL, overwrite: Bool) throws -> Int {
        var parameters: [Parameter] = []
        var metadata = [formatKey: "1", "\(formatKey).batches": String(statistics.batches)]
        for name in statistics.inputs.keys.sorted() {
            let input = statistics.inputs[name]!
            parameters.append(Parameter(name: "\(name)|input.square_sums", tensor: try tensor(input.squareSums)))
            parameters.append(
                Parameter(name: "\(name)|input.count_groups", tensor: try tensor([Int64(input.count), Int64(input.groups)])))
            if let sums = input.sums {
                parameters.append(Parameter(name: "\(name)|input.sums", tensor: try tensor(sums)))
            }
            if let blocks = input.blockMoments {
                parameters.append(Parameter(name: "\(name)|input.block_moments", tensor: try tensor(blocks.values)))
                parameters.append(Parameter(name: "\(name)|input.block_width", tensor: try tensor([Int64(blocks.width)])))
            }
        }
        for name in statistics.outputs.keys.sorted() {
            let output = statistics.outputs[name]!
            parameters.append(Parameter(name: "\(name)|output.absolute_sums", tensor: try tensor(output.absoluteSums)))
            parameters.append(
                Parameter(name: "\(name)|output.zero_counts", tensor: try tensor(output.zeroCounts.map { Int64($0) })))
            parameters.append(Parameter(name: "\(name)|output.count", tensor: try tensor([Int64(output.count)])))
            metadata["\(formatKey).observed.\(name)"] = output.observedOp
        }
        let model = try Model(parameters: parameters)
        return try SafetensorsWriter.write(model, to: url, metadata: metadata, overwrite: overwrite)
    }

    /// Reads statistics saved by ``save(_:to:overwrite:)``.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the file when it is not a statistics file,
    ///   `corruptFile` naming the tensor that is missing or malformed.
    public static func load(_ url: URL) throws -> CalibrationStatistics {
        let model = try SafetensorsDocument(url: url).model
        guard model.metadata[formatKey] == "1" else {
            throw PruneError(.invalidInput, "\(url.path) is not a PruneKit statistics file", hint: .savedStatistics)
        }
        var statistics = CalibrationStatistics(batches: Int(model.metadata["\(formatKey).batches"] ?? "") ?? 0)
        func doubles(_ name: String) throws -> [Double] { try values(model, name, .f64, url, as: Double.self) }
        func ints(_ name: String) throws -> [Int] { try values(model, name, .i64, url, as: Int64.self).map { Int($0) } }
        for parameter in model.parameters {
            if let weight = parameter.name.removingSuffix("|input.square_sums") {
                let countGroups = try ints("\(weight)|input.count_groups")
                guard countGroups.count == 2 else {
                    throw PruneError(.corruptFile, "\(url.path): '\(weight)|input.count_groups' needs 2 values")
                }
                let squares = try doubles(parameter.name)
                // Files written before sums and block moments existed have neither; both stay optional.
                let sums = model["\(weight)|input.sums"] == nil ? nil : try doubles("\(weight)|input.sums")
                guard sums == nil || sums!.count == squares.count else {
                    throw PruneError(.corruptFile, "\(url.path): the input sums of '\(weight)' disagree in size")
                }
                var blocks: BlockMoments?
                if model["\(weight)|input.block_moments"] != nil {
                    let values = try doubles("\(weight)|input.block_moments")
                    let width = try ints("\(weight)|input.block_width")
                    guard width.count == 1, width[0] > 0, values.count == squares.count * width[0] else {
                        throw PruneError(.corruptFile, "\(url.path): the block moments of '\(weight)' disagree in size")
                    }
                    blocks = BlockMoments(width: width[0], values: values)
                }
                statistics.inputs[weight] = InputFeatureStatistics(
                    squareSums: squares, count: countGroups[0], groups: countGroups[1], sums: sums, blockMoments: blocks)
            } else if let weight = parameter.name.removingSuffix("|output.absolute_sums") {
                let sums = try doubles(parameter.name)
                let zeros = try ints("\(weight)|output.zero_counts")
                let count = try ints("\(weight)|output.count")
                guard zeros.count == sums.count, count.count == 1 else {
                    throw PruneError(.corruptFile, "\(url.path): the output statistics of '\(weight)' disagree in size")
                }
                statistics.outputs[weight] = OutputUnitStatistics(
                    absoluteSums: sums, zeroCounts: zeros, count: count[0],
                    observedOp: model.metadata["\(formatKey).observed.\(weight)"] ?? "?")
            }
        }
        return statistics
    }

    private static func tensor<T>(_ values: [T]) throws -> Tensor {
        let dtype: DType = T.self == Double.self ? .f64 : .i64
        return try values.withUnsafeBytes { try Tensor(dtype: dtype, shape: [values.count], bytes: Array($0)) }
    }

    private static func values<T>(_ model: Model, _ name: String, _ dtype: DType, _ url: URL, as: T.Type) throws -> [T] {
        guard let tensor = model[name]?.tensor else {
            throw PruneError(.corruptFile, "\(url.path): tensor '\(name)' is missing")
        }
        guard tensor.dtype == dtype, tensor.shape.count == 1 else {
            throw PruneError(.corruptFile, "\(url.path): tensor '\(name)' should be 1-D \(dtype.rawValue)")
        }
        var bytes: [UInt8] = []
        tensor.forEachByteChunk { bytes.append(contentsOf: $0) }
        return [T](unsafeUninitializedCapacity: tensor.elementCount) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                for i in 0..<tensor.elementCount { buffer[i] = raw.loadUnaligned(fromByteOffset: i * 8, as: T.self) }
            }
            initialized = tensor.elementCount
        }
    }
}

extension String {
    fileprivate func removingSuffix(_ suffix: String) -> String? {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : nil
    }
}
