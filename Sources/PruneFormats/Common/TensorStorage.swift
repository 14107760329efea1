import Foundation
import PruneCore

/// How the tensors of a written model are stored: dense, or in the format's sparse form.
///
/// ONNX's sparse form is `sparse_initializer` (a coordinate list with INT64 indices); safetensors' is the
/// compressed-tensors library's `sparse-bitmask` (or `sparse-24-bitmask` when every stored weight is 2:4) with the
/// `sparsity_config` it reads from `config.json` (`Docs/Compression.md`).
public enum TensorStorage: String, Sendable, Hashable, CaseIterable, Codable {
    /// Every tensor dense, as read (the default: every runtime and tool reads it).
    case dense
    /// Every weight that has zeros in the sparse form, even when that is larger.
    case sparse
    /// The sparse form only for the weights it makes smaller.
    case auto
}

/// Options for writing a model file.
public struct WriteOptions: Sendable {
    /// Entries to add to the file's metadata (what was done, the tool version).
    public var metadata: [String: String]
    /// Whether existing output files may be replaced.
    public var overwrite: Bool
    /// How tensors are stored.
    public var storage: TensorStorage

    /// Creates options; tensors are dense unless `storage` says otherwise.
    public init(metadata: [String: String] = [:], overwrite: Bool = false, storage: TensorStorage = .dense) {
        self.metadata = metadata
        self.overwrite = overwrite
        self.storage = storage
    }
}

/// How one parameter is stored in a file, and how many bytes its data takes there.
public struct StoredTensor: Sendable, Hashable, Codable {
    /// The parameter's name.
    public var name: String
    /// `dense`, `sparse-coo` (ONNX `sparse_initializer`), `sparse-bitmask` or `sparse-24-bitmask`
    /// (compressed-tensors).
    public var format: String
    /// The bytes of its data in the file: values plus indices, bitmask and offsets for sparse forms (message and
    /// header overhead not included).
    public var bytes: Int
    /// The non-zero elements stored, for sparse forms.
    public var nonzeros: Int?

    /// Creates a description.
    public init(name: String, format: String, bytes: Int, nonzeros: Int? = nil) {
        self.name = name
        self.format = format
        self.bytes = bytes
        self.nonzeros = nonzeros
    }

    /// A dense tensor's description.
    public static func dense(_ parameter: Parameter) -> StoredTensor {
        StoredTensor(name: parameter.name, format: "dense", bytes: parameter.tensor.byteCount)
    }
}

/// What writing a model produced.
public struct WriteSummary: Sendable {
    /// Bytes written, over every file.
    public var bytesWritten: Int
    /// Every file written (the model, side files, `config.json`).
    public var files: [URL]
    /// How each parameter of the written model is stored, in model order.
    public var tensors: [StoredTensor]

    /// Creates a summary.
    public init(bytesWritten: Int, files: [URL], tensors: [StoredTensor]) {
        self.bytesWritten = bytesWritten
        self.files = files
        self.tensors = tensors
    }
}
