import PruneKit

extension PluginsCommand {
    /// The registry `plugins list/info/check` start from, before any plugin is loaded: the built-ins, so
    /// listings show built-ins and plugins alike and `check` catches clashes with built-in names.
    static func baseRegistry() -> ComponentRegistry {
        ComponentRegistry.standard()
    }
}
