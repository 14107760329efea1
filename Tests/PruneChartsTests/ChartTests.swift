import Foundation
import PruneCharts
import Testing

@Suite("SVG charts and the HTML page")
struct ChartTests {
    @Test func ticksAreRoundAndCoverTheDomain() {
        // Steps of 1, 2 or 5 × 10^k nearest span/5: 0…1 → 0.2; 0…37 → 7.4 → 5; 0.83…0.97 → 0.028 → 0.02.
        #expect(LinearScale.ticks(for: 0...1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(LinearScale.ticks(for: 0...37) == [0, 5, 10, 15, 20, 25, 30, 35])
        let nice = LinearScale.nice(0.83...0.97)
        #expect(abs(nice.lowerBound - 0.82) < 1e-12 && abs(nice.upperBound - 0.98) < 1e-12)
    }

    @Test func aScaleMapsTheDomainOntoThePixels() {
        let y = LinearScale(domain: 0...1, range: (400, 40))
        #expect(y(0) == 400)
        #expect(y(1) == 40)
        #expect(y(0.25) == 310)
    }

    @Test func aLineChartIsWellFormedWithOneGroupPerSeries() throws {
        let chart = LineChart(
            title: "t", xTitle: "sparsity", yTitle: "agreement",
            series: [
                .init(name: "conv1", points: [(0.1, 1), (0.5, 0.9)]),
                .init(name: "conv2", points: [(0.1, 0.99), (0.5, 0.7)]),
                .init(name: "fc1", points: [(0.1, 0.98)]),
            ])
        let check = XMLCheck(chart.svg())
        #expect(check.error == nil, "\(String(describing: check.error))")
        #expect(check.elements.first?.name == "svg")
        #expect(check.elements(named: "g", class: "series").map { $0["data-name"] } == ["conv1", "conv2", "fc1"])
        // Two lines with two points have a path; the one-point series is a marker only.
        #expect(check.elements(named: "path").count == 2)
        #expect(check.elements(named: "circle").count == 5)
        #expect(check.elements(named: "g", class: "legend-entry").count == 3)
        #expect(check.elements(named: "svg").first?["width"] == "760")
    }

    @Test func namesAreEscaped() throws {
        let hostile = "a<b & \"c\" 'd'>\u{1}"
        let chart = LineChart(
            title: hostile, xTitle: "x", yTitle: "y", series: [.init(name: hostile, points: [(0, 0), (1, 1)])])
        let svg = chart.svg()
        #expect(!svg.contains("a<b"))
        let check = XMLCheck(svg)
        #expect(check.error == nil, "\(String(describing: check.error))")
        // The control character cannot appear in XML; it becomes U+FFFD, the rest round-trips.
        #expect(check.elements(named: "g", class: "series").first?["data-name"] == "a<b & \"c\" 'd'>\u{FFFD}")
        let bars = BarChart(title: "b", yTitle: "y", categories: [hostile], series: [.init(name: hostile, values: [1])])
        #expect(XMLCheck(bars.svg()).error == nil)
    }

    @Test func aBarChartHasOneBarPerCategoryAndSeries() throws {
        let chart = BarChart(
            title: "sparsity", yTitle: "fraction", categories: ["conv1.weight", "conv2.weight", "fc1.weight"],
            series: [.init(name: "before", values: [0, 0, 0.1]), .init(name: "after", values: [0.5, 0.5, 0.6])],
            yDomain: 0...1)
        let check = XMLCheck(chart.svg())
        #expect(check.error == nil)
        let series = check.elements(named: "g", class: "series")
        #expect(series.map { $0["data-name"] } == ["before", "after"])
        // Bars plus the background rectangle.
        #expect(check.elements(named: "rect").count == 6 + 1)
    }

    @Test func theHTMLPageIsOneWellFormedSelfContainedFile() throws {
        var page = HTMLPage(title: "Sensitivity of <model>")
        page.add(.paragraph("a & b"))
        page.add(.chart(LineChart(title: "c", xTitle: "x", yTitle: "y", series: [.init(name: "s", points: [(0, 1), (1, 0)])]).element(), caption: "curves"))
        page.add(.table(header: ["target", "0.5"], rows: [["conv1", "0.9375"], ["x<y", "–"]]))
        let html = page.render()
        let check = XMLCheck(html)
        #expect(check.error == nil, "\(String(describing: check.error))")
        #expect(check.elements(named: "svg").count == 1)
        #expect(check.elements(named: "tr").count == 3)
        #expect(check.elements(named: "td", class: "num").count == 1)
        // No external assets: nothing is loaded from elsewhere.
        for attribute in ["src", "href"] {
            #expect(check.elements.allSatisfy { $0.attributes[attribute] == nil })
        }
        #expect(!html.contains("<link"))
        #expect(check.text["h1"] == "Sensitivity of <model>")
        #expect(check.text["title"]?.hasPrefix("Sensitivity of <model>") == true)
    }
}
