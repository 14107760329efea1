import PruneCore

/// Registers PruneStructure's components: the `remove` rewriter.
public enum StructureComponents {
    /// Adds `remove` to `registry`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` if the name is taken.
    public static func register(into registry: ComponentRegistry) throws {
        try registry.register(
            rewriter: ComponentInfo(
                kind: .rewriter, name: "remove",
                summary: "cut the selected channels and neurons out of an ONNX model (unit groups)", signature: .none,
                source: .builtin)
        ) { _ in RemoveRewriter() }
    }
}
