import PruneCore

extension PluginsCommand {
    /// The registry `plugins list/info/check` start from, before any plugin is loaded.
    ///
    /// The plugins branch has no built-ins; when merging, return `ComponentRegistry.standard()` (the registry
    /// `run` uses) so listings show built-ins and plugins alike and `check` catches clashes with built-ins.
    static func baseRegistry() -> ComponentRegistry {
        ComponentRegistry()
    }
}
