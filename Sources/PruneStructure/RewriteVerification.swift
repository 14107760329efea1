import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime

/// Checks a structurally rewritten model before anything is written, so that a rewrite that broke the graph ends
/// in an error naming the node instead of a file no runtime loads.
///
/// Two checks, both on the edited graph with its new parameters:
/// 1. **Shapes**: static shape inference over the whole graph; every shape the inference derives must agree with
///    what the graph declares for that value (`value_info`, graph outputs), and every Conv, normalisation, Gemm,
///    MatMul and broadcasting operator must receive operands whose extents fit one another.
/// 2. **A run**: one batch of synthetic inputs goes through the interpreter. When the rewritten model fails but the
///    original model runs on the same inputs, the failure is the rewrite's; when the original fails too, another
///    extent for symbolic dimensions is tried; when no input the original accepts can be found, or the
///    interpreter does not support an operator, the rewrite cannot be verified and is refused.
package enum RewriteVerification {
    /// Extents tried for symbolic non-batch input dimensions (image sides, sequence lengths).
    static let extents = [64, 224, 16]

    /// Throws unless `rewritten` (made from `original` by `rewriter`) passes both checks.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the node when the shapes disagree or the rewritten model
    ///   fails where the original runs, and when the rewrite cannot be verified.
    package static func verify(_ rewritten: Model, original: Model, rewriter: String) throws {
        guard rewritten.graph is ONNXModelGraph else { return }
        try verify(rewritten, original: original, rewriter: rewriter, place: "")
        try verifyBranches(rewritten, original: original, rewriter: rewriter)
    }

    /// Checks, as a graph of its own (``SubgraphScope/standalone(in:)``), every If branch the rewrite touched (its
    /// nodes changed, or a parameter it reads changed shape), against the same branch of the original: a synthetic
    /// run of the whole model takes one branch of each If only, and shape inference does not enter branches.
    static func verifyBranches(_ rewritten: Model, original: Model, rewriter: String) throws {
        guard let before = original.graph as? ONNXModelGraph, let after = rewritten.graph as? ONNXModelGraph,
            before.proto.node.contains(where: { !$0.subgraphs.isEmpty })
        else { return }
        for scope in try StructureAnalysis(model: original).scopes {
            let originalGraph = scope.standalone(in: before.proto)
            let rewrittenGraph = scope.standalone(in: after.proto)
            let reads = Set(rewrittenGraph.outerScopeReads).union(rewrittenGraph.initializer.map(\.name))
            let resized = reads.contains { name in
                rewritten[name]?.tensor.shape != original[name]?.tensor.shape
            }
            guard resized || originalGraph.node != rewrittenGraph.node else { continue }
            var originalBranch = original
            originalBranch.graph = ONNXModelGraph(proto: originalGraph, opset: before.opset)
            var rewrittenBranch = rewritten
            rewrittenBranch.graph = ONNXModelGraph(proto: rewrittenGraph, opset: after.opset)
            try verify(
                rewrittenBranch, original: originalBranch, rewriter: rewriter,
                place: " in branch '\(scope.index.scope?.label ?? "")'")
        }
    }

    /// Checks one graph: the model's own, or (``SubgraphScope``) an If branch made standalone, named by `place`
    /// (" in branch 'X'") in the messages.
    static func verify(_ rewritten: Model, original: Model, rewriter: String, place: String) throws {
        if let problem = ShapeConsistency.firstProblem(in: rewritten, original: original) {
            throw PruneError(
                .unsupported,
                "'\(rewriter)' produced an inconsistent graph\(place), so nothing was written: \(problem)")
        }
        let pruned: ONNXGraph
        let interpreter: Interpreter
        do {
            pruned = try ONNXGraph.of(rewritten)
            interpreter = try Interpreter(graph: pruned, options: .init(threads: 2))
        } catch let error as PruneError {
            throw PruneError(
                .unsupported,
                "'\(rewriter)' cannot verify the rewritten model\(place) by running it, so nothing was written: "
                    + error.message)
        }
        var originalInterpreter: Interpreter?
        var lastOriginalError: PruneError?
        for (extent, batchSized) in candidates(pruned) {
            let inputs = try pruned.syntheticInputs(batch: 1, extent: extent, batchSized: batchSized)
            do {
                _ = try interpreter.run(inputs)
                return
            } catch let failure as PruneError {
                if originalInterpreter == nil {
                    do {
                        originalInterpreter = try Interpreter(graph: try ONNXGraph.of(original), options: .init(threads: 2))
                    } catch let error as PruneError {
                        throw PruneError(
                            .unsupported,
                            "'\(rewriter)' cannot verify the rewritten model\(place) (the interpreter cannot load "
                                + "the original: \(error.message)), so nothing was written")
                    }
                }
                do {
                    _ = try originalInterpreter?.run(inputs)
                } catch let error as PruneError {
                    lastOriginalError = error
                    continue
                }
                throw PruneError(
                    .unsupported,
                    "'\(rewriter)' broke the model\(place), so nothing was written: the original runs on a test "
                        + "batch but the rewritten model fails at \(failure.message)")
            }
        }
        throw PruneError(
            .unsupported,
            "'\(rewriter)' cannot verify the rewritten model\(place), so nothing was written: the interpreter cannot "
                + "run the original on synthetic inputs (\(lastOriginalError?.message ?? "unknown error"))")
    }

    /// The synthetic input shapes tried, in order: each of ``extents`` for every symbolic dimension after the
    /// first; then, for each non-empty subset of (at most four) inputs with such dimensions, the same with those
    /// inputs' symbolic dimensions set to the batch size (a recurrent state `[2, batch, 128]` next to an audio
    /// chunk `[batch, samples]`, as silero-vad declares them).
    static func candidates(_ graph: ONNXGraph) -> [(extent: Int, batchSized: Set<String>)] {
        var result = extents.map { (extent: $0, batchSized: Set<String>()) }
        let inner = Array(graph.inputsWithSymbolicInnerDimensions.prefix(4))
        guard !inner.isEmpty else { return result }
        for subset in 1..<(1 << inner.count) {
            let names = Set(inner.indices.filter { subset & (1 << $0) != 0 }.map { inner[$0] })
            result += extents.map { (extent: $0, batchSized: names) }
        }
        return result
    }
}
