import ArgumentParser
import Foundation
import Logging
import PrunePluginHost

/// `prune plugins`: list, describe and check scorers, selectors and rewriters, built in or loaded from plugins.
struct PluginsCommand: ParsableCommand {
    /// The command's name, summary and subcommands.
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List, describe and check components, built in or loaded from plugin shared libraries.",
        discussion: """
            Plugins are shared libraries written against prune_plugin.h (see Docs/Plugins.md). They are only \
            loaded when asked for: with --plugin PATH, from the directories in $PRUNE_PLUGIN_PATH, or from a \
            recipe's plugins: entries.
            """,
        subcommands: [PluginsListCommand.self, PluginsInfoCommand.self, PluginsCheckCommand.self],
        defaultSubcommand: PluginsListCommand.self)

    /// Creates the command (argument parsing fills it in).
    init() {}

    /// The logger plugin commands use.
    static var logger: Logger { Logger(label: "prune.plugins") }
}

/// `prune plugins list`: every component with its kind, source, version and parameters.
struct PluginsListCommand: ParsableCommand {
    /// The command's name and summary.
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List built-in and plugin components with their parameters.")

    /// Which plugins to load.
    @OptionGroup var plugins: PluginOptions

    /// Print the listing as JSON instead of a table.
    @Flag(help: "Print the listing as JSON (kind, name, summary, source, version, parameters).")
    var json = false

    /// Creates the command (argument parsing fills it in).
    init() {}

    /// Prints the listing.
    func run() throws {
        print(try render(), terminator: "")
    }

    /// The listing as text.
    func render(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let registry = PluginsCommand.baseRegistry()
        _ = try plugins.loadPlugins(into: registry, logger: PluginsCommand.logger, environment: environment)
        return json ? try PluginListing.json(registry.components) : PluginListing.table(registry.components)
    }
}

/// `prune plugins info NAME`: a component's (or a plugin's) description, license and parameters.
struct PluginsInfoCommand: ParsableCommand {
    /// The command's name and summary.
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a component or plugin: summary, license, parameters and defaults.")

    /// A component name (or a plugin's name).
    @Argument(help: "A component or plugin name.") var name: String

    /// Which plugins to load.
    @OptionGroup var plugins: PluginOptions

    /// Creates the command (argument parsing fills it in).
    init() {}

    /// Prints the description.
    func run() throws {
        print(try render(), terminator: "")
    }

    /// The description as text.
    ///
    /// - Throws: ``PluginsCommandError`` when nothing is called `name`.
    func render(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let registry = PluginsCommand.baseRegistry()
        let loaded = try plugins.loadPlugins(into: registry, logger: PluginsCommand.logger, environment: environment)
        let components = registry.components.filter { $0.name == name }
        let matchingPlugins = loaded.filter { $0.name == name }
        guard !components.isEmpty || !matchingPlugins.isEmpty else {
            throw PluginsCommandError(
                "no component or plugin is called '\(name)'; 'prune plugins list' shows what is available")
        }
        var text = components.map { PluginListing.info($0, plugin: PluginListing.plugin(of: $0, in: loaded)) }
        text += matchingPlugins.filter { plugin in !components.contains { $0.source == .plugin(path: plugin.path) } }
            .map(PluginListing.info)
        return text.joined(separator: "\n")
    }
}

/// `prune plugins check PATH`: load a plugin, validate it and run each component once on synthetic tensors.
struct PluginsCheckCommand: ParsableCommand {
    /// The command's name and summary.
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a plugin, validate it, and run each component once on a small synthetic model.",
        discussion: "Exits with status 1 when any check fails. Docs/Plugins.md lists the checks.")

    /// The plugin file.
    @Argument(help: "The plugin shared library.") var path: String

    /// Load the file even when other users could have modified it.
    @Flag(help: "Check the plugin even when other users could have modified it.")
    var allowInsecurePlugins = false

    /// Creates the command (argument parsing fills it in).
    init() {}

    /// Seconds the checks may take before the child running them is stopped.
    @Option(help: "Seconds the checks may take; a plugin that hangs longer fails the check.")
    var timeout: Double = 60

    /// Run the checks in this process and write progress lines (the child side of the isolation).
    @Flag(help: .hidden) var child = false

    /// Prints the report; fails when a check failed.
    ///
    /// The checks run in a child `prune` process (`IsolatedConformance`), so a plugin that crashes, hangs or
    /// calls `exit` fails its check instead of ending this command.
    func run() throws {
        let options = PluginLoadOptions(allowInsecure: allowInsecurePlugins)
        if child {
            _ = PluginConformance.check(
                path, options: options, baseRegistry: PluginsCommand.baseRegistry(), logger: PluginsCommand.logger,
                progress: { FileHandle.standardOutput.write(Data(IsolatedConformance.childLine($0).utf8)) })
            FileHandle.standardOutput.write(Data(IsolatedConformance.doneLine.utf8))
            return
        }
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let report = IsolatedConformance.check(
            path, executable: executable,
            arguments: ["plugins", "check", "--child", path] + (allowInsecurePlugins ? ["--allow-insecure-plugins"] : []),
            timeout: timeout)
        print(PluginListing.report(report), terminator: "")
        if !report.passed { throw ExitCode.failure }
    }

    /// The report as text, and whether every check passed.
    func render() -> (text: String, passed: Bool) {
        let report = PluginConformance.check(
            path, options: .init(allowInsecure: allowInsecurePlugins), baseRegistry: PluginsCommand.baseRegistry(),
            logger: PluginsCommand.logger)
        return (PluginListing.report(report), report.passed)
    }
}

/// A `prune plugins` failure that is not a plugin's own error (those are `PluginError`s).
struct PluginsCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
