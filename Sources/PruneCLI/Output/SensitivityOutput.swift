import Foundation
import PruneKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `prune sensitivity` prints and draws: the table, the SVG (and PNG) of the curves, the HTML page.
enum SensitivityOutput {
    /// The curves as a text table: fidelity per target at each grid point, and the cost at the largest.
    static func table(_ curves: SensitivityCurves, grid: [Double]) -> String {
        let (header, rows) = curves.table(grid: grid)
        var table = TextTable(columns: header)
        rows.forEach { table.add($0) }
        let title =
            "\(curves.metric.rawValue) of \(curves.model) with each \(curves.granularity == .unit ? "group" : "tensor") "
            + "alone pruned (\(curves.scorer))"
        return title + "\n\n" + table.render()
    }

    /// Writes the line chart of `curves` to `svg` and, when `rsvg-convert` is installed, a PNG beside it.
    static func drawCurves(_ curves: SensitivityCurves, to svg: URL, overwrite: Bool, sources: [URL], quiet: Bool) throws {
        let text = curves.lineChart().svg()
        _ = try AtomicFileWriter.write(to: svg, overwrite: overwrite, sources: sources) { sink in
            try sink.write(Array(text.utf8))
        }
        var written = [svg.path]
        if let converter = SVGRasterizer.converter {
            let png = svg.deletingPathExtension().appendingPathExtension("png")
            try rasterise(svg, to: png, converter: converter, overwrite: overwrite, sources: sources)
            written.append(png.path)
        }
        if !quiet {
            print("curves: " + written.joined(separator: ", ")
                + (written.count == 1 ? " (no PNG: rsvg-convert is not installed, Debian package librsvg2-bin)" : ""))
        }
    }

    /// Writes the self-contained HTML page of `curves` to `url`.
    static func writeHTML(_ curves: SensitivityCurves, grid: [Double], to url: URL, overwrite: Bool, sources: [URL]) throws {
        let text = curves.htmlPage(grid: grid).render()
        _ = try AtomicFileWriter.write(to: url, overwrite: overwrite, sources: sources) { sink in
            try sink.write(Array(text.utf8))
        }
    }

    /// Renders into a temporary file beside `png`, then moves it into place, so a failed render leaves no half file.
    private static func rasterise(_ svg: URL, to png: URL, converter: URL, overwrite: Bool, sources: [URL]) throws {
        let manager = FileManager.default
        if !overwrite, manager.fileExists(atPath: png.path) {
            throw PruneError(.outputExists, "\(png.path) already exists")
        }
        if sources.contains(where: { $0.standardizedFileURL.path == png.standardizedFileURL.path }) {
            throw PruneError(.outputExists, "\(png.path) is an input file; PruneKit never modifies its inputs")
        }
        let temporary = png.deletingLastPathComponent().appending(path: ".\(png.lastPathComponent).\(UUID().uuidString).tmp")
        defer { try? manager.removeItem(at: temporary) }
        do {
            try SVGRasterizer.png(from: svg, to: temporary, converter: converter)
        } catch let failure as SVGRasterizer.Failure {
            throw PruneError(.writeFailed, failure.description)
        }
        if rename(temporary.path, png.path) != 0 {
            throw PruneError(.writeFailed, "\(png.path): cannot move the rendered PNG into place")
        }
    }
}
