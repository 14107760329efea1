import Foundation

/// Turns SVG files into PNG with `rsvg-convert` (Debian package `librsvg2-bin`) when it is installed.
public enum SVGRasterizer {
    /// The `rsvg-convert` on `PATH` (or at `$PRUNE_RSVG_CONVERT`), or nil when there is none.
    public static var converter: URL? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["PRUNE_RSVG_CONVERT"] {
            return FileManager.default.isExecutableFile(atPath: explicit) ? URL(fileURLWithPath: explicit) : nil
        }
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appending(path: "rsvg-convert")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Why rasterising failed.
    public struct Failure: Error, CustomStringConvertible {
        /// One line naming the file and the converter's complaint.
        public let description: String
    }

    /// Renders the SVG file `svg` to the PNG file `png` at the SVG's own size (1 CSS pixel = 1 pixel).
    ///
    /// - Parameter converter: the `rsvg-convert` executable.
    /// - Throws: ``Failure`` with the converter's message when it exits with an error.
    public static func png(from svg: URL, to png: URL, converter: URL) throws {
        let process = Process()
        process.executableURL = converter
        process.arguments = ["--format", "png", "--output", png.path, svg.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(
                description: "\(converter.lastPathComponent) could not render \(svg.path): "
                    + (text.split(separator: "\n").first.map(String.init) ?? "exit status \(process.terminationStatus)"))
        }
    }
}
