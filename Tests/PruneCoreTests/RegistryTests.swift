import Testing

@testable import PruneCore

/// A user-written scorer: the negated value, so the largest weights go first.
private struct NegatedScorer: ElementScorer {
    func elementScores(of parameter: Parameter, in context: PruneContext) throws -> [Float] {
        parameter.tensor.floatValues().map { -$0 }
    }
}

@Suite("Component registry")
struct RegistryTests {
    private func info(_ name: String, _ source: ComponentSource, _ signature: String = "") -> ComponentInfo {
        ComponentInfo(
            kind: .scorer, name: name, summary: "test", signature: try! ParameterSignature(parsing: signature),
            source: source)
    }

    @Test func buildsRegisteredComponentsWithCheckedParameters() throws {
        let registry = ComponentRegistry()
        try registry.register(scorer: info("negated", .code("tests"), "scale:f64=1")) { _ in NegatedScorer() }
        let scorer = try registry.makeScorer(ComponentSpec(parsing: "negated:scale=2"))
        let model = try Model(parameters: [Parameter(name: "w", tensor: Tensor(shape: [2], values: [1, -3]))])
        let scores = try scorer.scores(for: .elements(of: model["w"]!), in: PruneContext(model: model))
        #expect(scores.values == [-1, 3])
        #expect(registry.components.map(\.name) == ["negated"])
    }

    @Test func duplicateNamesNameBothSources() throws {
        let registry = ComponentRegistry()
        try registry.register(scorer: info("dup", .builtin)) { _ in NegatedScorer() }
        let error = #expect(throws: PruneError.self) {
            try registry.register(scorer: info("dup", .plugin(path: "/opt/p/libdup.so"))) { _ in NegatedScorer() }
        }
        #expect(error?.kind == .duplicateComponent)
        #expect(error?.message == "scorer 'dup' from plugin /opt/p/libdup.so is already registered by built-in")
    }

    @Test func unknownNamesListTheKnownOnes() throws {
        let registry = ComponentRegistry()
        try registry.register(scorer: info("alpha", .builtin)) { _ in NegatedScorer() }
        let error = #expect(throws: PruneError.self) { try registry.makeScorer(ComponentSpec(name: "beta")) }
        #expect(error?.message == "unknown scorer 'beta'; known scorers: alpha")
    }
}
