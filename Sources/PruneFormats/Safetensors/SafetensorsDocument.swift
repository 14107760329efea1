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
}

/// Serialises models in the safetensors format.
public enum SafetensorsWriter {
    /// Writes `model` to `url` atomically.
    ///
    /// - Parameters:
    ///   - metadata: entries merged over `model.metadata` into `__metadata__`.
    ///   - overwrite: whether an existing file may be replaced.
    ///   - sources: files that must not be the destination (the inputs).
    /// - Returns: bytes written.
    public static func write(
        _ model: Model, to url: URL, metadata: [String: String] = [:], overwrite: Bool, sources: [URL] = []
    ) throws -> Int {
        let header = headerBytes(for: model, metadata: model.metadata.merging(metadata) { $1 })
        return try AtomicFileWriter.write(to: url, overwrite: overwrite, sources: sources) { sink in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try sink.write($0) }
            try sink.write(header)
            for parameter in model.parameters {
                try parameter.tensor.forEachByteChunk { try sink.write($0) }
                parameter.tensor.releaseResidentPages()
            }
        }
    }

    /// The JSON header, padded with spaces so the data section starts 8-byte aligned.
    static func headerBytes(for model: Model, metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(StrictJSON.quoted($0)):\(StrictJSON.quoted(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for parameter in model.parameters {
            let tensor = parameter.tensor
            let end = offset + tensor.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(StrictJSON.quoted(parameter.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
            )
            offset = end
        }
        var bytes = Array("{\(parts.joined(separator: ","))}".utf8)
        while (8 + bytes.count) % 8 != 0 { bytes.append(0x20) }
        return bytes
    }
}
