import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// Typed parameters reach the plugin's C function through libffi, and bad ones never do.
@Suite struct ParameterTests {
    private let weight = TestModels.parameter("w", [2, 3], [1, 2, 3, 4, 5, 6])

    private func echo(_ spec: String) throws -> [Float] {
        let (_, registry) = try TestPlugins.load(try TestPlugins.fixture("scorers"))
        let model = try TestModels.model(weight)
        return try registry.makeScorer(ComponentSpec(parsing: spec))
            .scores(for: .elements(of: weight), in: TestModels.context(model)).values
    }

    private func bindError(_ spec: String) throws -> PruneError {
        let path = try TestPlugins.fixture("scorers")
        let (_, registry) = try TestPlugins.load(path)
        let error = try #require(throws: PruneError.self) { try registry.makeScorer(ComponentSpec(parsing: spec)) }
        #expect(error.kind == .invalidParameter)
        #expect(error.message.contains("'echo'"))
        #expect(error.message.contains(path))
        return error
    }

    @Test func defaultsArePassed() throws {
        #expect(try echo("echo") == [0.5, 3, 0, 0, 0, 0])
    }

    @Test func everyTypeIsPassedInOrder() throws {
        #expect(try echo("echo:flag=true,mode=max,n=7,a=0.25") == [0.25, 7, 1, 1, 0, 0])
    }

    @Test func unknownKeyNamesThePluginAndTheParameter() throws {
        let error = try bindError("echo:b=1")
        #expect(error.message.contains("no parameter 'b'"))
    }

    @Test func wrongTypeNamesThePluginAndTheParameter() throws {
        let error = try bindError("echo:n=many")
        #expect(error.message.contains("parameter 'n' must be an integer"))
    }

    @Test func outOfRangeNamesThePluginAndTheParameter() throws {
        let error = try bindError("echo:a=1.5")
        #expect(error.message.contains("parameter 'a' = 1.5 is outside [0..1]"))
    }

    @Test func unlistedChoiceNamesThePluginAndTheParameter() throws {
        let error = try bindError("echo:mode=median")
        #expect(error.message.contains("parameter 'mode' must be one of sum, max"))
    }
}
