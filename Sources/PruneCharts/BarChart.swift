/// A grouped bar chart: one group of bars per category (a layer), one bar per series (before, after), over a
/// numeric y axis with ticks, grid lines and a legend.
public struct BarChart: Sendable {
    /// One set of bars, one value per category.
    public struct Series: Sendable, Hashable {
        /// The name shown in the legend.
        public var name: String
        /// One value per category.
        public var values: [Double]

        /// Creates a series.
        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    /// The chart's title.
    public var title: String
    /// The y axis title.
    public var yTitle: String
    /// The x axis title (what a category is).
    public var xTitle: String
    /// The category labels, in order.
    public var categories: [String]
    /// The series; each has one value per category (missing values are drawn as 0).
    public var series: [Series]
    /// The y interval shown; nil fits 0 and the data.
    public var yDomain: ClosedRange<Double>?
    /// Canvas width in pixels; nil grows with the number of bars.
    public var width: Double?
    /// Canvas height in pixels.
    public var height: Double

    /// Creates a chart.
    public init(
        title: String, yTitle: String, xTitle: String = "", categories: [String], series: [Series],
        yDomain: ClosedRange<Double>? = nil, width: Double? = nil, height: Double = 440
    ) {
        self.title = title
        self.yTitle = yTitle
        self.xTitle = xTitle
        self.categories = categories
        self.series = series
        self.yDomain = yDomain
        self.width = width
        self.height = height
    }

    /// The chart as an `<svg>` element.
    public func element() -> SVGElement {
        let bars = max(1, series.count)
        let canvasWidth = width ?? max(520, 64 + 190 + Double(categories.count) * (Double(bars) * 14 + 12))
        // Category labels are rotated, so the bottom margin grows with the longest one.
        let longest = min(28, categories.map(\.count).max() ?? 0)
        let frame = ChartFrame(
            width: canvasWidth, height: height, legend: series.map(\.name), bottomMargin: 40 + Double(longest) * 5.2)
        let values = series.flatMap(\.values)
        let domain = yDomain ?? LinearScale.nice(min(0, values.min() ?? 0)...max(0, values.max() ?? 1))
        let y = LinearScale(domain: domain, range: (frame.plotBottom, frame.plotTop))
        var svg = frame.canvas(title: title)
        svg.append(frame.yAxis(y, ticks: LinearScale.ticks(for: domain), title: yTitle))
        let slot = (frame.plotRight - frame.plotLeft) / Double(max(1, categories.count))
        let barWidth = max(1, (slot - 8) / Double(bars))
        var axis = SVGElement("g", ["class": "x-axis"])
        for (c, category) in categories.enumerated() {
            let x = frame.plotLeft + slot * (Double(c) + 0.5)
            let labelY = frame.plotBottom + 12
            axis.append(
                .text(
                    ChartFrame.shortened(category, to: 28),
                    ["x": SVGNumber.format(x), "y": SVGNumber.format(labelY), "text-anchor": "end",
                     "transform": "rotate(-40 \(SVGNumber.format(x)) \(SVGNumber.format(labelY)))"]))
        }
        axis.append(frame.line(x1: frame.plotLeft, y1: y(0), x2: frame.plotRight, y2: y(0)))
        if !xTitle.isEmpty { axis.append(frame.xTitle(xTitle)) }
        var plot = SVGElement("g", ["class": "plot"])
        for (s, set) in series.enumerated() {
            var group = SVGElement("g", ["class": "series", "data-name": set.name])
            group.append(SVGElement("title", [:], [.text(set.name)]))
            for c in categories.indices {
                let value = c < set.values.count ? set.values[c] : 0
                let left = frame.plotLeft + slot * Double(c) + 4 + barWidth * Double(s)
                let top = min(y(value), y(0))
                var bar = SVGElement(
                    "rect",
                    ["x": SVGNumber.format(left), "y": SVGNumber.format(top), "width": SVGNumber.format(barWidth),
                     "height": SVGNumber.format(abs(y(value) - y(0))), "fill": ChartPalette.color(s)])
                bar.append(SVGElement("title", [:], [.text("\(categories[c]): \(set.name) \(value)")]))
                group.append(bar)
            }
            plot.append(group)
        }
        svg.append(plot)
        svg.append(axis)
        svg.append(frame.legend(series.enumerated().map { ($1.name, ChartPalette.color($0), "") }))
        return svg
    }

    /// The chart as a complete SVG document.
    public func svg() -> String { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element().rendered() }
}
