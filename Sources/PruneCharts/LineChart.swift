/// A line chart: one polyline with point markers per series over numeric x and y axes, with ticks, grid lines,
/// axis titles and a legend.
///
/// ```swift
/// var chart = LineChart(title: "Sensitivity", xTitle: "sparsity", yTitle: "agreement")
/// chart.series = [.init(name: "conv1", points: [(0.1, 0.99), (0.5, 0.91)])]
/// let svg = chart.svg()        // a complete SVG document as text
/// ```
public struct LineChart: Sendable {
    /// One line.
    public struct Series: Sendable {
        /// The name shown in the legend.
        public var name: String
        /// The points, drawn in the order given.
        public var points: [(x: Double, y: Double)]
        /// A colour for this series (`#rrggbb`) instead of the palette's.
        public var color: String?
        /// A dash pattern (`"4 4"`) instead of the palette's; markers are left out of dashed reference lines.
        public var dash: String?

        /// Creates a series; `color` and `dash` override the palette (for reference lines).
        public init(name: String, points: [(x: Double, y: Double)], color: String? = nil, dash: String? = nil) {
            self.name = name
            self.points = points
            self.color = color
            self.dash = dash
        }

        /// The colour drawn for series number `index`.
        func strokeColor(_ index: Int) -> String { color ?? ChartPalette.color(index) }

        /// The dash pattern drawn for series number `index` (empty: solid).
        func strokeDash(_ index: Int) -> String { dash ?? ChartPalette.dash(index) }
    }

    /// The chart's title.
    public var title: String
    /// The x axis title.
    public var xTitle: String
    /// The y axis title.
    public var yTitle: String
    /// The lines.
    public var series: [Series]
    /// The x interval shown; nil fits the data (widened to round ticks).
    public var xDomain: ClosedRange<Double>?
    /// The y interval shown; nil fits the data (widened to round ticks).
    public var yDomain: ClosedRange<Double>?
    /// Canvas width in pixels (at least; a long legend widens it).
    public var width: Double
    /// Canvas height in pixels (at least; a long legend makes it taller).
    public var height: Double

    /// Creates a chart.
    public init(
        title: String, xTitle: String, yTitle: String, series: [Series] = [], xDomain: ClosedRange<Double>? = nil,
        yDomain: ClosedRange<Double>? = nil, width: Double = 760, height: Double = 440
    ) {
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.series = series
        self.xDomain = xDomain
        self.yDomain = yDomain
        self.width = width
        self.height = height
    }

    /// The layout: the frame and the two scales data points are drawn with.
    public var layout: (frame: ChartFrame, x: LinearScale, y: LinearScale) {
        let frame = ChartFrame(width: width, height: height, legend: series.map(\.name))
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) }
        let x = xDomain ?? LinearScale.nice((xs.min() ?? 0)...(xs.max() ?? 1))
        let y = yDomain ?? LinearScale.nice((ys.min() ?? 0)...(ys.max() ?? 1))
        return (
            frame, LinearScale(domain: x, range: (frame.plotLeft, frame.plotRight)),
            LinearScale(domain: y, range: (frame.plotBottom, frame.plotTop))
        )
    }

    /// The chart as an `<svg>` element.
    public func element() -> SVGElement {
        let (frame, x, y) = layout
        var svg = frame.canvas(title: title)
        svg.append(frame.yAxis(y, ticks: LinearScale.ticks(for: y.domain), title: yTitle))
        svg.append(frame.xAxis(x, ticks: LinearScale.ticks(for: x.domain), title: xTitle))
        var plot = SVGElement("g", ["class": "plot"])
        for (index, line) in series.enumerated() {
            let color = line.strokeColor(index)
            var group = SVGElement("g", ["class": "series", "data-name": line.name])
            group.append(SVGElement("title", [:], [.text(line.name)]))
            let path = line.points.enumerated().map { offset, point in
                (offset == 0 ? "M" : "L") + SVGNumber.format(x(point.x)) + " " + SVGNumber.format(y(point.y))
            }.joined(separator: " ")
            if line.points.count > 1 {
                var stroke = SVGElement(
                    "path", ["d": path, "fill": "none", "stroke": color, "stroke-width": "2",
                             "stroke-linejoin": "round"])
                let dash = line.strokeDash(index)
                if !dash.isEmpty { stroke.set("stroke-dasharray", dash) }
                group.append(stroke)
            }
            for point in line.points where line.dash == nil {
                group.append(
                    SVGElement(
                        "circle",
                        ["cx": SVGNumber.format(x(point.x)), "cy": SVGNumber.format(y(point.y)), "r": "3",
                         "fill": color]))
            }
            plot.append(group)
        }
        svg.append(plot)
        svg.append(
            frame.legend(series.enumerated().map { ($1.name, $1.strokeColor($0), $1.strokeDash($0)) }))
        return svg
    }

    /// The chart as a complete SVG document.
    public func svg() -> String { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element().rendered() }
}
