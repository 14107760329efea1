import Foundation
import PruneCore

/// A safetensors file, memory-mapped: tensors are views of the file until something rewrites them.
///
/// Layer weights (``SafetensorsCandidates``: float tensors of rank ≥ 2 but embeddings, norms and the output head) get
/// PyTorch's layout (`[out, in, ...]`), the convention of the PyTorch, Hugging Face and MLX checkpoints this format
/// carries, which makes them the default candidates.
public struct SafetensorsDocument: ModelDocument {
    /// The file.
    public let url: URL
    /// `safetensors`.
    public var formatName: String { "safetensors" }
    /// The tensors in file order, with the header's `__metadata__`.
    public let model: Model
    /// The file's size in bytes.
    public var fileSize: Int { file.size }
    private let file: MappedFile

    /// Opens and validates `url`; no tensor data is read yet.
    ///
    /// - Throws: `PruneError` naming the file (and tensor) for an unreadable, truncated, corrupt or hostile file.
    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        self.file = file
        let header = try SafetensorsHeader(file: file.bytes(0..<file.size), path: url.path)
        let tableSizes = SafetensorsCandidates.tableSizes(beside: url)
        let parameters = header.entries.map { entry in
            let range =
                (header.dataStart + entry.dataRange.lowerBound)..<(header.dataStart + entry.dataRange.upperBound)
            let tensor = Tensor(dtype: entry.dtype, shape: entry.shape, bytes: TensorBytes(mapped: file, range: range))
            let layout: WeightLayout? =
                SafetensorsCandidates.isLayerWeight(
                    name: entry.name, dtype: entry.dtype, shape: entry.shape, tableSizes: tableSizes) ? .pytorch : nil
            return Parameter(name: entry.name, tensor: tensor, layout: layout)
        }
        model = try Model(parameters: parameters, metadata: header.metadata, sourceURL: url)
    }

    /// Writes `model` as safetensors: existing metadata kept, `metadata` added, tensors in model order, each in
    /// its own dtype; unmodified tensors are copied byte for byte.
    public func write(_ model: Model, to url: URL, metadata: [String: String], overwrite: Bool) throws -> Int {
        _ = try ModelFiles.outputFormat(for: url, input: self.url)
        return try SafetensorsWriter.write(model, to: url, metadata: metadata, overwrite: overwrite, sources: [self.url])
    }

    /// `Compressed weights` and `Quantised weights` sections when the file holds weights in compressed-tensors
    /// sparse or quantised layouts.
    public func inspectionSections() -> [InspectionSection] {
        let compressed = CompressedTensorsInspection(
            model: model, configFormat: CompressedTensorsInspection.configFormat(beside: url))
        let quantized = CompressedTensorsQuantizedInspection(
            model: model, scheme: CompressedTensorsQuantizedInspection.configScheme(beside: url))
        return [compressed.section(), quantized.section()].compactMap { $0 }
    }

    /// Weights stored in a compressed-tensors sparse or quantised layout are seen as their parts, not as weights.
    public var warnings: [String] {
        let compressed = CompressedTensorsInspection(model: model, configFormat: nil)
        let quantized = CompressedTensorsQuantizedInspection(model: model, scheme: nil)
        var warnings: [String] = []
        if !compressed.weights.isEmpty {
            warnings.append(
                "\(url.path): \(compressed.weights.count) weights are stored in a compressed-tensors sparse layout; "
                    + "PruneKit sees their parts (values, bitmask), not the weights, so prune the dense checkpoint")
        }
        if !quantized.weights.isEmpty {
            warnings.append(
                "\(url.path): \(quantized.weights.count) weights are stored quantised (compressed-tensors); PruneKit "
                    + "sees their parts (integers, scales) and leaves them alone, so prune the float checkpoint")
        }
        return warnings
    }

    /// Writes `model` with `options`; sparse storage uses the compressed-tensors layout
    /// (``SafetensorsWriter/write(_:to:options:sources:)``).
    public func write(_ model: Model, to url: URL, options: WriteOptions) throws -> WriteSummary {
        _ = try ModelFiles.outputFormat(for: url, input: self.url)
        return try SafetensorsWriter.write(model, to: url, options: options, sources: [self.url])
    }
}

/// Serialises models in the safetensors format.
public enum SafetensorsWriter {
    /// One tensor of the file: its name, dtype, shape and bytes.
    struct Entry {
        /// Where the bytes come from.
        enum Source {
            case tensor(Tensor)
            case bytes([UInt8])
        }

        var name: String
        var dtype: DType
        var shape: [Int]
        var source: Source

        var byteCount: Int {
            switch source {
            case .tensor(let tensor): tensor.byteCount
            case .bytes(let bytes): bytes.count
            }
        }

        /// A parameter stored as it is.
        init(_ parameter: Parameter) {
            self.init(name: parameter.name, dtype: parameter.tensor.dtype, shape: parameter.tensor.shape,
                source: .tensor(parameter.tensor))
        }

        init(name: String, dtype: DType, shape: [Int], source: Source) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.source = source
        }
    }

    /// Writes `model` to `url` atomically, every tensor dense.
    ///
    /// - Parameters:
    ///   - metadata: entries merged over `model.metadata` into `__metadata__`.
    ///   - overwrite: whether an existing file may be replaced.
    ///   - sources: files that must not be the destination (the inputs).
    /// - Returns: bytes written.
    public static func write(
        _ model: Model, to url: URL, metadata: [String: String] = [:], overwrite: Bool, sources: [URL] = []
    ) throws -> Int {
        try write(
            model.parameters.map(Entry.init), to: url, metadata: model.metadata.merging(metadata) { $1 },
            overwrite: overwrite, sources: sources)
    }

    /// Writes `model` to `url` atomically; with sparse `options.storage`, pruned layer weights go in the
    /// compressed-tensors sparse layout and its `sparsity_config` goes into the `config.json` beside `url`
    /// (``CompressedTensorsSparsity``). Weights a rewriter quantised are already in the model in the library's
    /// layout (``CompressedTensorsQuantization``); their scheme goes into the same `config.json`.
    ///
    /// - Throws: as ``write(_:to:metadata:overwrite:sources:)``, and `.outputExists` for a `config.json` that
    ///   exists without `options.overwrite` or is the input's own.
    public static func write(
        _ model: Model, to url: URL, options: WriteOptions, sources: [URL]
    ) throws -> WriteSummary {
        let metadata = model.metadata.merging(options.metadata) { $1 }
        let quantization = try CompressedTensorsQuantization.Config(model)
        let plan = CompressedTensorsSparsity.plan(model, storage: options.storage)
        let config = plan.config
        guard config != nil || quantization != nil else {
            let bytes = try write(plan.entries, to: url, metadata: metadata, overwrite: options.overwrite, sources: sources)
            return WriteSummary(bytesWritten: bytes, files: [url], tensors: plan.stored)
        }
        let configURL = url.deletingLastPathComponent().appending(path: "config.json")
        let inputConfigs = sources.map { $0.deletingLastPathComponent().appending(path: "config.json") }
        try AtomicFileWriter.checkDestination(
            configURL.standardizedFileURL, overwrite: options.overwrite, sources: sources + inputConfigs)
        let configBytes = try CompressedTensorsSparsity.configJSON(
            config, quantization: quantization, base: inputConfigs.first { FileManager.default.fileExists(atPath: $0.path) })
        var bytes = try write(plan.entries, to: url, metadata: metadata, overwrite: options.overwrite, sources: sources)
        bytes += try AtomicFileWriter.write(
            to: configURL, overwrite: options.overwrite, sources: sources + inputConfigs
        ) { sink in try sink.write(configBytes) }
        return WriteSummary(bytesWritten: bytes, files: [url, configURL], tensors: plan.stored)
    }

    static func write(
        _ entries: [Entry], to url: URL, metadata: [String: String], overwrite: Bool, sources: [URL]
    ) throws -> Int {
        let header = headerBytes(for: entries, metadata: metadata)
        return try AtomicFileWriter.write(to: url, overwrite: overwrite, sources: sources) { sink in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink.write($0) }
            try sink.write(header)
            for entry in entries {
                switch entry.source {
                case .tensor(let tensor):
                    try tensor.forEachByteChunk { try sink.write($0) }
                    tensor.releaseResidentPages()
                case .bytes(let bytes):
                    try sink.write(bytes)
                }
            }
        }
    }

    /// The JSON header, padded with spaces so the data section starts 8-byte aligned.
    static func headerBytes(for entries: [Entry], metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(StrictJSON.quoted($0)):\(StrictJSON.quoted(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for entry in entries {
            let end = offset + entry.byteCount
            let shape = entry.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(StrictJSON.quoted(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
            )
            offset = end
        }
        var bytes = Array("{\(parts.joined(separator: ","))}".utf8)
        while (8 + bytes.count) % 8 != 0 { bytes.append(0x20) }
        return bytes
    }
}
