import ArgumentParser
import Foundation
import PruneKit

/// The `prune` command: inspect models, prune them, and manage strategies.
public struct PruneCommand: ParsableCommand {
    /// The command's help and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune neural networks: smaller models, with a report of what was removed and what it cost.",
        version: pruneKitVersion,
        subcommands: [InspectCommand.self, RunCommand.self, EvalCommand.self, PluginsCommand.self])

    /// Creates the command (used by the argument parser).
    public init() {}

    /// Runs the command line, printing a one-line error and exiting non-zero on any failure.
    public static func runMain() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as PruneError {
            fail(error.message)
        } catch let error as PluginError {
            fail(error.message)
        } catch {
            exit(withError: error)
        }
    }

    /// Prints `message` as one line on stderr and exits with status 1.
    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("prune: error: \(PrintableText.escaped(message))\n".utf8))
        Foundation.exit(1)
    }
}
