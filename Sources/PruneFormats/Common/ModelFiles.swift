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
            throw PruneError(.unsupported, "\(url.path): unknown model format '.\(ext)'; PruneKit reads \(known)")
        }
        return try format.open(url)
    }
}
