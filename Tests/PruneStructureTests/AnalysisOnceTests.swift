import Foundation
import PruneBuiltins
import PruneCore
import PruneFormats
@testable import PruneStructure
import Testing

@Suite("The structure analysis runs once per model")
struct AnalysisOnceTests {
    @Test("A stage's targets and its remove rewriter share one analysis")
    func targetsAndRewriterShare() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.residual(), as: "residual")
        let graph = try #require(document.model.graph as? ONNXModelGraph)
        #expect(graph.facts.derivationCount(StructureAnalysis.factKey) == 0)
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "residual-removed")
        #expect(graph.facts.derivationCount(StructureAnalysis.factKey) == 1)
        #expect(removed.model.parameterCount < document.model.parameterCount)
        // Patterns are applied to the shared analysis, not by analysing again.
        let ignored = try StructureAnalysis(model: document.model, ignoring: [".*"])
        #expect(ignored.groups.allSatisfy { !$0.isPrunable })
        #expect(try StructureAnalysis(model: document.model).groups.contains { $0.isPrunable })
        #expect(graph.facts.derivationCount(StructureAnalysis.factKey) == 1)
    }

    @Test("A model whose parameter shapes or graph changed is analysed again")
    func changedModelIsAnalysedAgain() throws {
        let harness = try Harness()
        let document = try harness.open(TestGraphs.cnn(), as: "cnn")
        let graph = try #require(document.model.graph as? ONNXModelGraph)
        _ = try StructureAnalysis(model: document.model)
        let removed = try harness.prune(
            document, selector: LayerSelector(sparsity: 0.5), rewriter: RemoveRewriter(), name: "cnn-removed")
        // The removal wrote a new graph: its analysis starts afresh and sees the smaller channel counts.
        let smaller = try StructureAnalysis(model: removed.model)
        #expect(smaller.groups.first?.unitCount == 2)
        #expect(graph.facts.derivationCount(StructureAnalysis.factKey) == 1)
        // Same graph, a parameter of another shape: analysed again, not served the stale groups.
        var reshaped = document.model
        let weight = try reshaped.parameter(named: "conv1.weight").tensor
        try reshaped.setTensor(weight.removing([0], along: 0), for: "conv1.weight")
        _ = try StructureAnalysis(model: reshaped)
        #expect(graph.facts.derivationCount(StructureAnalysis.factKey) == 2)
    }
}
