@_exported import PruneBuiltins
@_exported import PruneCalibration
@_exported import PruneCharts
@_exported import PruneCore
@_exported import PruneEvaluation
@_exported import PruneFormats
@_exported import PrunePluginHost
@_exported import PruneQuantize
@_exported import PruneRecipes
@_exported import PruneReconstruct
@_exported import PruneRuntime
@_exported import PruneStructure

extension ComponentRegistry {
    /// A registry holding PruneKit's built-in scorers, selectors and rewriters, each feature target's own.
    public static func standard() -> ComponentRegistry {
        let registry = ComponentRegistry()
        // Built-in names are distinct by construction; a clash here is a programming error.
        try! BuiltinComponents.register(into: registry)
        try! StructureComponents.register(into: registry)
        try! ReconstructComponents.register(into: registry)
        try! QuantizeComponents.register(into: registry)
        return registry
    }
}

/// The PruneKit version written into reports and file metadata.
public let pruneKitVersion = "0.1.0"
