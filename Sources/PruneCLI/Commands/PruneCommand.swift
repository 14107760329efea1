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
        subcommands: [InspectCommand.self, RunCommand.self, EvalCommand.self, SensitivityCommand.self, PluginsCommand.self])

    /// Creates the command (used by the argument parser).
    public init() {}

    /// Runs the command line. Every failure is one line on stderr, `prune: error: ...`, with exit status 64 for a
    /// command line that does not parse and 1 for anything that fails while running.
    public static func runMain() {
        runMain(arguments: Array(CommandLine.arguments.dropFirst()))
    }

    static func runMain(arguments: [String]) {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // --help and --version arrive here as "errors" that exit 0.
            guard exitCode(for: error) != .success else { exit(withError: error) }
            fail(ErrorLine.usage(message(for: error)), status: ExitStatus.usage)
        }
        do {
            var running = command
            try running.run()
        } catch let error as PruneError {
            fail(ErrorLine.runtime(error), status: ExitStatus.failure)
        } catch let error as PluginError {
            fail(ErrorLine.runtime(error), status: ExitStatus.failure)
        } catch {
            // `prune help run` and friends run a command that "throws" its help text, exit code 0.
            switch exitCode(for: error) {
            case .success: exit(withError: error)
            case .validationFailure: fail(ErrorLine.usage(message(for: error)), status: ExitStatus.usage)
            default: fail(ErrorLine.runtime(error), status: ExitStatus.failure)
            }
        }
    }

    /// Prints `message` as one line on stderr and exits with `status`.
    private static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("prune: error: \(PrintableText.escaped(message))\n".utf8))
        Foundation.exit(status)
    }
}

/// The exit statuses of `prune`.
enum ExitStatus {
    /// The command ran and did what was asked.
    static let success: Int32 = 0
    /// Something failed while running (a file, a model, a component).
    static let failure: Int32 = 1
    /// The command line itself is wrong (BSD's EX_USAGE).
    static let usage: Int32 = 64
}

/// The one-line text of an error, with the command-line hint for library errors that need one.
enum ErrorLine {
    /// A parse or validation error as one line, pointing at `--help`.
    static func usage(_ message: String) -> String {
        let first = message.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? message
        let trimmed = first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first
        return trimmed.prefix(1).lowercased() + trimmed.dropFirst() + " (see --help)"
    }

    /// A runtime error's message plus the flag that fixes it, where one does.
    static func runtime(_ error: any Error) -> String {
        if let error = error as? PruneError { return error.message + (error.hint.map(flags(for:)) ?? "") }
        if let error = error as? PluginError {
            return error.message + (error.kind == .insecure ? "; pass --allow-insecure-plugins to load it anyway" : "")
        }
        return "\(error)"
    }

    /// Library errors never name flags, they carry a hint; the CLI knows which of its flags answers which hint.
    static func flags(for hint: PruneError.Hint) -> String {
        switch hint {
        case .unitGranularity: " (use --granularity unit)"
        case .calibrationBatches: ": pass --calibration FILE|DIR (saved --stats are not enough: it runs the batches)"
        case .calibrationData: ": pass --calibration FILE|DIR, or --stats FILE saved by --save-stats"
        case .allowOverwrite: " (use --force to overwrite it)"
        case .savedStatistics: " (write one with --save-stats)"
        default: ""
        }
    }
}
