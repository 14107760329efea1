/// The layout every chart shares: the canvas, the plot area inside its margins, the title, axis titles, the y axis
/// with ticks and grid lines, and a legend to the right of the plot.
public struct ChartFrame: Sendable, Hashable {
    /// Canvas width in pixels.
    public var width: Double
    /// Canvas height in pixels.
    public var height: Double
    /// The plot area's left edge.
    public var plotLeft: Double
    /// The plot area's top edge.
    public var plotTop: Double
    /// The plot area's right edge.
    public var plotRight: Double
    /// The plot area's bottom edge.
    public var plotBottom: Double

    /// Legend entries shown at most; the rest are summarised in one line.
    static let legendLimit = 60
    /// Characters of a legend name shown at most (longer names lose their middle).
    static let legendNameLimit = 52
    static let legendRowHeight = 18.0
    /// The legend column's width, from the left edge of the legend to the canvas edge.
    let legendWidth: Double

    /// A frame of at least `width` × `height` with room for a title, axis titles and, when `legend` is given, a
    /// legend column of those names.
    ///
    /// The legend column is as wide as its longest (shortened) name needs, and the canvas grows wider and taller
    /// when the plot or the legend would not fit, so no name is cut off by the canvas edge.
    public init(width: Double, height: Double, legend: [String]?, bottomMargin: Double = 52) {
        let longest = min(Self.legendNameLimit, legend?.map(\.count).max() ?? 0)
        // About 6.6 px per character at 12 px, plus the swatch and padding.
        legendWidth = legend == nil ? 24 : max(120, 6.6 * Double(longest) + 52)
        let rows = Double(min(legend?.count ?? 0, Self.legendLimit) + 1)
        self.width = max(width, 64 + 480 + legendWidth)
        self.height = max(height, 40 + 8 + rows * Self.legendRowHeight + bottomMargin)
        plotLeft = 64
        plotTop = 40
        plotRight = self.width - legendWidth
        plotBottom = self.height - bottomMargin
    }

    /// The root `<svg>` element with a white background.
    func canvas(title: String) -> SVGElement {
        var svg = SVGElement(
            "svg",
            [
                "xmlns": SVGElement.namespace, "width": SVGNumber.format(width), "height": SVGNumber.format(height),
                "viewBox": "0 0 \(SVGNumber.format(width)) \(SVGNumber.format(height))",
                "font-family": "DejaVu Sans, Helvetica, Arial, sans-serif", "font-size": "12",
            ])
        svg.append(SVGElement("title", [:], [.text(title)]))
        svg.append(
            SVGElement("rect", ["x": "0", "y": "0", "width": "100%", "height": "100%", "fill": "#ffffff"]))
        svg.append(
            .text(
                title,
                [
                    "x": SVGNumber.format((plotLeft + plotRight) / 2), "y": "22", "text-anchor": "middle",
                    "font-size": "15", "font-weight": "bold", "class": "chart-title",
                ]))
        return svg
    }

    /// The y axis: grid lines and labels at `ticks`, the axis line, and its title rotated along it.
    func yAxis(_ scale: LinearScale, ticks: [Double], title: String) -> SVGElement {
        var group = SVGElement("g", ["class": "y-axis"])
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        for tick in ticks {
            let y = SVGNumber.format(scale(tick))
            group.append(
                SVGElement(
                    "line",
                    [
                        "x1": SVGNumber.format(plotLeft), "x2": SVGNumber.format(plotRight), "y1": y, "y2": y,
                        "stroke": "#e3e3e3", "stroke-width": "1",
                    ]))
            group.append(
                .text(
                    LinearScale.label(tick, step: step),
                    ["x": SVGNumber.format(plotLeft - 6), "y": y, "text-anchor": "end", "dominant-baseline": "middle"]))
        }
        group.append(line(x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom))
        let middle = SVGNumber.format((plotTop + plotBottom) / 2)
        group.append(
            .text(
                title,
                ["x": "16", "y": middle, "text-anchor": "middle", "transform": "rotate(-90 16 \(middle))",
                 "class": "axis-title"]))
        return group
    }

    /// The x axis of a numeric scale: tick marks and labels at `ticks`, the axis line, and its title.
    func xAxis(_ scale: LinearScale, ticks: [Double], title: String) -> SVGElement {
        var group = SVGElement("g", ["class": "x-axis"])
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
        for tick in ticks {
            let x = scale(tick)
            group.append(line(x1: x, y1: plotBottom, x2: x, y2: plotBottom + 5))
            group.append(
                .text(
                    LinearScale.label(tick, step: step),
                    ["x": SVGNumber.format(x), "y": SVGNumber.format(plotBottom + 18), "text-anchor": "middle"]))
        }
        group.append(line(x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom))
        group.append(xTitle(title))
        return group
    }

    /// The x axis title, centred below the plot.
    func xTitle(_ title: String) -> SVGElement {
        .text(
            title,
            ["x": SVGNumber.format((plotLeft + plotRight) / 2), "y": SVGNumber.format(height - 10),
             "text-anchor": "middle", "class": "axis-title"])
    }

    /// The legend: one swatch and name per entry (`dash` empty for solid), at most ``legendLimit`` of them.
    func legend(_ entries: [(name: String, color: String, dash: String)]) -> SVGElement {
        var group = SVGElement("g", ["class": "legend"])
        let x = plotRight + 16
        for (index, entry) in entries.prefix(Self.legendLimit).enumerated() {
            let y = plotTop + 8 + Double(index) * Self.legendRowHeight
            var swatch = line(x1: x, y1: y, x2: x + 22, y2: y, color: entry.color, width: 3)
            if !entry.dash.isEmpty { swatch.set("stroke-dasharray", entry.dash) }
            var item = SVGElement("g", ["class": "legend-entry"])
            item.append(swatch)
            item.append(
                .text(
                    Self.shortened(entry.name, to: Self.legendNameLimit),
                    ["x": SVGNumber.format(x + 28), "y": SVGNumber.format(y), "dominant-baseline": "middle"]))
            group.append(item)
        }
        if entries.count > Self.legendLimit {
            let y = plotTop + 8 + Double(Self.legendLimit) * Self.legendRowHeight
            group.append(
                .text(
                    "… and \(entries.count - Self.legendLimit) more",
                    ["x": SVGNumber.format(x), "y": SVGNumber.format(y), "dominant-baseline": "middle",
                     "fill": "#666666"]))
        }
        return group
    }

    /// A straight line.
    func line(
        x1: Double, y1: Double, x2: Double, y2: Double, color: String = "#333333", width: Double = 1
    ) -> SVGElement {
        SVGElement(
            "line",
            [
                "x1": SVGNumber.format(x1), "y1": SVGNumber.format(y1), "x2": SVGNumber.format(x2),
                "y2": SVGNumber.format(y2), "stroke": color, "stroke-width": SVGNumber.format(width),
            ])
    }

    /// `text` cut to `limit` characters with an ellipsis in the middle (ends of layer names say the most).
    static func shortened(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        let half = (limit - 1) / 2
        return String(text.prefix(half)) + "…" + String(text.suffix(limit - 1 - half))
    }
}
