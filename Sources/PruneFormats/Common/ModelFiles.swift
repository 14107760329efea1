import Foundation
import PruneCore

/// Opens model files by format, chosen from the file's extension.
public enum ModelFiles {
    /// An opener for one format.
    public struct Format: Sendable {
        /// The format's name.
        public var name: String
        /// File extensions (lower case, without the dot) that select it.
        public var extensions: [String]
        /// Opens a file of this format.
        public var open: @Sendable (URL) throws -> any ModelDocument

        /// Creates a format entry.
        public init(name: String, extensions: [String], open: @escaping @Sendable (URL) throws -> any ModelDocument) {
            self.name = name
            self.extensions = extensions
            self.open = open
        }
    }

    /// The formats PruneKit reads.
    public static let formats: [Format] = [
        Format(name: "onnx", extensions: ["onnx"]) { try ONNXDocument(url: $0) },
        Format(name: "safetensors", extensions: ["safetensors"]) { try SafetensorsDocument(url: $0) },
    ]

    /// Opens `url` with the format its extension names.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the file for an unknown extension, and the format's own
    ///   errors for unreadable or corrupt files.
    public static func open(_ url: URL) throws -> any ModelDocument {
        let ext = url.pathExtension.lowercased()
        guard let format = formats.first(where: { $0.extensions.contains(ext) }) else {
            let known = formats.flatMap(\.extensions).map { "." + $0 }.joined(separator: ", ")
            throw PruneError(.unsupported, "\(url.path): \(ext.isEmpty ? "no file extension to tell the model format" : "unknown model format '.\(ext)'"); PruneKit reads \(known)")
        }
        return try format.open(url)
    }

    /// The format a model read from `input` is written in at `output`, chosen by `output`'s extension.
    ///
    /// The same format is always possible; ONNX → safetensors converts (the weights are written, the graph is
    /// not); anything else is refused, so a `.safetensors` name never holds ONNX bytes or the reverse.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the output file for an unknown extension or a conversion
    ///   PruneKit does not make.
    public static func outputFormat(for output: URL, input: URL) throws -> String {
        let inputExt = input.pathExtension.lowercased()
        let outputExt = output.pathExtension.lowercased()
        let known = formats.flatMap(\.extensions).map { "." + $0 }.joined(separator: ", ")
        guard let target = formats.first(where: { $0.extensions.contains(outputExt) }) else {
            throw PruneError(.unsupported, "\(output.path): \(outputExt.isEmpty ? "no file extension to tell the model format" : "unknown model format '.\(outputExt)'"); PruneKit writes \(known)")
        }
        guard let source = formats.first(where: { $0.extensions.contains(inputExt) }) else { return target.name }
        if source.name == target.name || (source.name == "onnx" && target.name == "safetensors") {
            return target.name
        }
        throw PruneError(
            .unsupported,
            "\(output.path): cannot write \(target.name) from \(source.name) input; name the output .\(source.extensions[0])")
    }

    /// Refuses, before any work, an output PruneKit would not write: a format it cannot produce from `input`
    /// (``outputFormat(for:input:)``), the input itself, an existing file without `overwrite`, or anything that is
    /// not a regular file (a FIFO or device), even with `overwrite`.
    ///
    /// - Throws: `PruneError` naming the output file.
    public static func checkOutput(_ output: URL, input: URL, overwrite: Bool) throws {
        _ = try outputFormat(for: output, input: input)
        try AtomicFileWriter.checkDestination(output.standardizedFileURL, overwrite: overwrite, sources: [input])
    }
}
