import PruneCore
import PruneFormats

/// The static half of ``RewriteVerification``: shape inference over a rewritten graph, compared with the original.
enum ShapeConsistency {
    /// The first shape conflict of `rewritten` at a node where `original` had none, or nil.
    ///
    /// Conflicts the original model already has (a declared shape the exporter got wrong, an operator the inference
    /// reads differently) are not the rewrite's doing and are ignored.
    static func firstProblem(in rewritten: Model, original: Model) -> String? {
        guard let edited = rewritten.graph as? ONNXModelGraph else { return nil }
        let after = GraphIndex.shapeInference(edited.proto, model: rewritten).conflicts
        guard !after.isEmpty else { return nil }
        let before = (original.graph as? ONNXModelGraph).map {
            GraphIndex.shapeInference($0.proto, model: original).conflicts
        } ?? []
        let knownNodes = Set(before.map(nodePart))
        return after.first { !knownNodes.contains(nodePart($0)) }
    }

    /// The `node 'X' (Op)` prefix of a conflict message.
    private static func nodePart(_ message: String) -> Substring {
        message.range(of: "): ").map { message[..<$0.lowerBound] } ?? message[...]
    }
}
