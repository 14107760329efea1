import Foundation
import PruneKit
import PruneTestSupport
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The charts a pruning report draws: per-layer sparsity before/after and fidelity per stage.
@Suite struct ReportChartsTests {
    @Test func sparsityBeforeAndAfterFollowTheReportRows() throws {
        let directory = try TemporaryDirectory()
        let input = try EngineTests.writeModel(in: directory)
        // Half of each layer: 6 of fc1's 12 weights, 4 of fc2's 8; the bias is not a candidate.
        let job = PruneJob(
            input: input, output: directory.file("out.safetensors"), recipe: try EngineTests.oneStage("layer:sparsity=0.5"),
            threads: 1)
        let report = try PruneEngine().run(job)
        let chart = report.sparsityChart()
        #expect(chart.categories == ["fc1.weight", "fc2.weight"])
        #expect(chart.series.map(\.name) == ["before", "after"])
        #expect(chart.series[0].values == [0, 0])
        #expect(chart.series[1].values == [0.5, 0.5])

        let stages = [StageFidelity(stage: "dense", fidelity: 1), StageFidelity(stage: "prune", fidelity: 0.75)]
        let fidelity = PruneReport.fidelityChart(stages, metric: "agreement")
        #expect(fidelity.categories == ["dense", "prune"])
        #expect(fidelity.series.first?.values == [1, 0.75])

        let page = report.htmlPage(fidelity: stages).render()
        let parser = XMLParser(data: Data(page.utf8))
        #expect(parser.parse(), "the page is well-formed: \(String(describing: parser.parserError))")
        #expect(page.components(separatedBy: "<svg").count - 1 == 2)
        #expect(page.contains("<td>fc1.weight</td>"))
    }
}
