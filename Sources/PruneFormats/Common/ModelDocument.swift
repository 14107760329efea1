import Foundation
import PruneCore

/// A model file opened in its own format: the parameters PruneKit prunes, plus whatever else the format holds
/// (an ONNX graph, safetensors metadata) so that writing it back changes nothing but the rewritten tensors.
public protocol ModelDocument: Sendable {
    /// The file the document was read from.
    var url: URL { get }
    /// The format's name, e.g. `safetensors` or `onnx`.
    var formatName: String { get }
    /// The parameters, as a model the pipeline can rewrite.
    var model: Model { get }
    /// The size of the source file(s) in bytes.
    var fileSize: Int { get }

    /// Writes `model` (the document's model after rewriting) in this document's format.
    ///
    /// Everything the rewrite did not touch comes out as it came in. The write is atomic: a temporary file
    /// beside `url` is renamed into place only when complete.
    ///
    /// - Parameters:
    ///   - metadata: entries to add to the file's metadata (what was done, the tool version).
    ///   - overwrite: whether an existing file at `url` may be replaced.
    /// - Returns: the number of bytes written.
    /// - Throws: `PruneError.Kind.outputExists` when `url` exists and `overwrite` is false or `url` is the
    ///   source file, `PruneError.Kind.writeFailed` for I/O errors.
    func write(_ model: Model, to url: URL, metadata: [String: String], overwrite: Bool) throws -> Int

    /// Writes `model` with `options`, storing tensors densely or sparsely as `options.storage` says, and reports
    /// how each tensor was stored. Formats without a sparse form write dense whatever the option.
    ///
    /// - Throws: as ``write(_:to:metadata:overwrite:)``.
    func write(_ model: Model, to url: URL, options: WriteOptions) throws -> WriteSummary

    /// How each parameter of ``model`` is stored in the file as read, in model order.
    var storedTensors: [StoredTensor] { get }

    /// Format-specific sections for `prune inspect` (graph inputs, operator histogram, …).
    func inspectionSections() -> [InspectionSection]

    /// Things about the file the user should know that are not errors (an unusual opset, a tensor kept but
    /// not prunable), one line each, naming the file.
    var warnings: [String] { get }
}

extension ModelDocument {
    /// No warnings.
    public var warnings: [String] { [] }

    /// No extra sections.
    public func inspectionSections() -> [InspectionSection] { [] }

    /// Every parameter dense.
    public var storedTensors: [StoredTensor] { model.parameters.map(StoredTensor.dense) }

    /// Writes dense (the format has no sparse form) and reports every parameter as dense.
    public func write(_ model: Model, to url: URL, options: WriteOptions) throws -> WriteSummary {
        let bytes = try write(model, to: url, metadata: options.metadata, overwrite: options.overwrite)
        return WriteSummary(bytesWritten: bytes, files: [url], tensors: model.parameters.map(StoredTensor.dense))
    }
}

/// A titled table that `prune inspect` prints and includes in its JSON.
public struct InspectionSection: Sendable, Hashable, Codable {
    /// The section heading.
    public var title: String
    /// Column headings.
    public var columns: [String]
    /// Rows of cells, one per column.
    public var rows: [[String]]

    /// Creates a section.
    public init(title: String, columns: [String], rows: [[String]]) {
        self.title = title
        self.columns = columns
        self.rows = rows
    }
}
