import PruneCore

extension StructureAnalysis {
    /// Whether the group targets `selection` prunes are `model`'s head-dimension groups (``init(model:ignoring:includingHiddenWidth:headDimensions:)``
    /// with `headDimensions`) rather than its default groups: a rewriter sees only the selection, whose targets
    /// came from one of the two analyses.
    ///
    /// - Throws: `PruneError` when the model has no ONNX graph.
    package static func selectsHeadDimensions(_ selection: Selection, in model: Model) throws -> Bool {
        let targets = selection.entries.compactMap { entry -> PruneTarget? in
            guard case .prune(let mask) = entry.decision, mask.setCount > 0 else { return nil }
            return entry.target
        }
        func matches(_ analysis: StructureAnalysis) -> Bool {
            targets.allSatisfy { analysis.group(named: $0.name)?.target == $0 }
        }
        if matches(try StructureAnalysis(model: model, includingHiddenWidth: true)) { return false }
        return matches(try StructureAnalysis(model: model, includingHiddenWidth: true, headDimensions: true))
    }
}
