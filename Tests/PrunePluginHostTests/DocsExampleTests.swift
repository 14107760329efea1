import Foundation
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// The minimal C plugin in Docs/Plugins.md compiles, passes `prune plugins check`, and scores as documented.
@Suite struct DocsExampleTests {
    @Test func minimalCPluginFromTheGuideConforms() throws {
        let guide = try String(
            contentsOf: TestPlugins.packageRoot.appendingPathComponent("Docs/Plugins.md"), encoding: .utf8)
        let start = try #require(guide.range(of: "```c\n"))
        let end = try #require(guide.range(of: "\n```", range: start.upperBound..<guide.endIndex))
        let folder = try TestPlugins.folder("docs")
        let source = folder.appendingPathComponent("absolute.c")
        try String(guide[start.upperBound..<end.lowerBound]).write(to: source, atomically: true, encoding: .utf8)
        let library = try TestPlugins.compile(source, into: folder)

        let report = PluginConformance.check(library)
        #expect(report.passed, "\(report.checks.filter { $0.outcome == .failed })")
        #expect(report.plugin?.components.map(\.info.name) == ["absolute"])
    }
}
