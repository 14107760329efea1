import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// What plugins hand back is checked, and a violation is an error naming the plugin and its file.
@Suite struct OutputValidationTests {
    private let weight = TestModels.parameter("w", [2, 3], [1, 2, 3, 4, 5, 6])

    private func scorerError(_ name: String) throws -> PluginError {
        let path = try TestPlugins.fixture("scorers")
        let (_, registry) = try TestPlugins.load(path)
        let model = try TestModels.model(weight)
        let scorer = try registry.makeScorer(ComponentSpec(parsing: name))
        let error = try #require(throws: PluginError.self) {
            try scorer.scores(for: .elements(of: weight), in: TestModels.context(model))
        }
        #expect(error.message.contains(path))
        #expect(error.message.contains("scorer '\(name)' of plugin 'fixture-scorers'"))
        return error
    }

    @Test func nanScoresAreRejected() throws {
        let error = try scorerError("nan-scorer")
        #expect(error.kind == .invalidOutput)
        #expect(error.message.contains("nan at position 1 of 'w'"))
    }

    @Test func wrongLengthIsRejected() throws {
        let error = try scorerError("short-scorer")
        #expect(error.kind == .invalidOutput)
        #expect(error.message.contains("returned 5 scores for 'w', which needs 6"))
    }

    @Test func failureStatusCarriesThePluginsMessage() throws {
        let error = try scorerError("failing-scorer")
        #expect(error.kind == .callFailed)
        #expect(error.message.contains("cannot score this on a Tuesday"))
        #expect(error.message.contains("PRUNE_ERR_UNSUPPORTED"))
    }

    @Test func selectorFlagsMustBeZeroOrOne() throws {
        let path = try TestPlugins.fixture("selector_rewriter")
        let (_, registry) = try TestPlugins.load(path)
        let model = try TestModels.model(weight)
        let scored = ScoredTarget(
            target: .elements(of: weight), scores: Scores([1, 2, 3, 4, 5, 6]), shape: [2, 3], layout: .pytorch)
        let selector = try registry.makeSelector(ComponentSpec(parsing: "bad-flags"))
        let error = try #require(throws: PluginError.self) {
            try selector.select([scored], in: TestModels.context(model))
        }
        #expect(error.kind == .invalidOutput)
        #expect(error.message.contains(path))
        #expect(error.message.contains("selector 'bad-flags'"))
        #expect(error.message.contains("prune flag 2 at position 0 of 'w'"))
    }

    @Test func rewriterOutputsMustBeFinite() throws {
        let path = try TestPlugins.fixture("selector_rewriter")
        let (_, registry) = try TestPlugins.load(path)
        let model = try TestModels.model(weight)
        let selection = Selection(entries: [
            Selection.Entry(target: .elements(of: weight), decision: .prune(Mask(count: 6, setting: [0])))
        ])
        let rewriter = try registry.makeRewriter(ComponentSpec(parsing: "nan-rewriter"))
        let error = try #require(throws: PluginError.self) {
            try rewriter.rewrite(model, applying: selection, in: TestModels.context(model))
        }
        #expect(error.kind == .invalidOutput)
        #expect(error.message.contains(path))
        #expect(error.message.contains("rewriter 'nan-rewriter'"))
        #expect(error.message.contains("position 0 of 'w'"))
    }
}
