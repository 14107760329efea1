import Foundation
import PruneCharts
import Testing

/// Renders charts with a real SVG renderer and looks at the pixels.
@Suite("SVG rendered by rsvg-convert")
struct RenderingTests {
    static let converter = SVGRasterizer.converter
    static let skipReason: Comment = "rsvg-convert is not installed (Debian package librsvg2-bin; Scripts/setup-system.sh installs it)"

    @Test(.enabled(if: converter != nil, skipReason))
    func theCurvesAreDrawnWhereTheScalesPutThem() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunecharts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // One falling line and one flat line at 0.3 (between the grid lines at 0.2 and 0.4).
        let chart = LineChart(
            title: "render", xTitle: "sparsity", yTitle: "fidelity",
            series: [
                .init(name: "falling", points: [(0, 1), (0.8, 0.2)]),
                .init(name: "flat", points: [(0, 0.3), (0.8, 0.3)]),
            ], xDomain: 0...1, yDomain: 0...1, width: 700, height: 400)
        let svg = directory.appending(path: "c.svg")
        let png = directory.appending(path: "c.png")
        try chart.svg().write(to: svg, atomically: true, encoding: .utf8)
        try SVGRasterizer.png(from: svg, to: png, converter: #require(Self.converter))
        let image = try PNGImage(contentsOf: png)
        #expect(image.width == 700)
        #expect(image.height == 400)
        let (_, x, y) = chart.layout
        // On the lines: x = 0.4 → falling at 0.6, flat at 0.3.
        #expect(image.hasInk(near: Int(x(0.4)), Int(y(0.6))))
        #expect(image.hasInk(near: Int(x(0.4)), Int(y(0.3))))
        // The flat line is the second colour; the falling one the first.
        let flat = image.pixel(Int(x(0.4).rounded()), Int(y(0.3).rounded()))
        #expect(flat.r > flat.b, "the flat line is orange (#f28e2b), got \(flat)")
        // Away from both lines, between grid lines, the plot is background.
        #expect(!image.hasInk(near: Int(x(0.2)), Int(y(0.5))))
        #expect(!image.hasInk(near: Int(x(0.95)), Int(y(0.9))))
        // Past the last point (x > 0.8) the flat line has stopped.
        #expect(!image.hasInk(near: Int(x(0.95)), Int(y(0.3)), radius: 1))
    }
}
