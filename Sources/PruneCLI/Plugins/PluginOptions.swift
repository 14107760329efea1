import ArgumentParser
import Foundation
import Logging
import PruneCore
import PrunePluginHost

/// The options that load plugins: `--plugin PATH` (repeatable) and `--allow-insecure-plugins`.
///
/// Commands that resolve components (`run`, `plugins list`, …) include it with `@OptionGroup` and call
/// ``loadPlugins(into:logger:recipe:environment:)`` once their registry holds the built-ins.
struct PluginOptions: ParsableArguments {
    /// Shared libraries to load as plugins, in order.
    @Option(
        name: .customLong("plugin"),
        help: ArgumentHelp(
            "Load a plugin shared library (repeatable). Directories in $PRUNE_PLUGIN_PATH are loaded too.",
            valueName: "path"))
    var paths: [String] = []

    /// Load plugin files and directories that group or others can write.
    @Flag(help: "Load plugin files even when other users could have modified them.")
    var allowInsecurePlugins = false

    /// Creates unparsed options, as argument parsing requires; in code, use `try PluginOptions.parse([...])`
    /// (reading a property of options that were never parsed traps).
    init() {}

    /// Loads `--plugin` files, a recipe's `plugins:` entries and every library in the `PRUNE_PLUGIN_PATH`
    /// directories into `registry`, each file once.
    ///
    /// - Parameters:
    ///   - recipe: plugin entries from a recipe (paths relative to the recipe, optional SHA-256 pins).
    ///   - environment: where `PRUNE_PLUGIN_PATH` is read from.
    /// - Returns: the loaded plugins, in load order.
    /// - Throws: `PluginError` naming the file that could not be loaded.
    func loadPlugins(
        into registry: ComponentRegistry, logger: Logger, recipe: [PluginReference] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> [LoadedPlugin] {
        let loader = PluginLoader(options: loadOptions, logger: logger)
        let references = paths.map { PluginReference(path: $0) } + recipe
        return try loader.loadAll(
            references, directories: PluginSearchPath.directories(environment: environment), into: registry)
    }

    /// The loader options these flags stand for.
    var loadOptions: PluginLoadOptions { PluginLoadOptions(allowInsecure: allowInsecurePlugins) }
}
