import Foundation
import PruneCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What ``PluginConformance/check(_:options:baseRegistry:logger:progress:)`` reports while it runs.
public enum ConformanceProgress: Sendable {
    /// A check is about to run (so a crash inside it can be blamed on it).
    case started(String)
    /// A check has ended.
    case finished(ConformanceReport.Check)
}

/// Runs the conformance checks in a child process with a time limit, so a plugin that crashes, hangs or ends
/// the process cannot take `prune plugins check` with it: the report says "crashed with SIGSEGV in scorer
/// 'x'", "did not return within N s" or "ended the process (exit status 0)".
///
/// The child is `prune` itself (`plugins check --child`), which writes one line per event to its standard
/// output with ``childLine(_:)``; the parent reads them with ``check(_:executable:arguments:timeout:)``.
public enum IsolatedConformance {
    /// The line the child writes for `event` (tabs and newlines in names escaped, so one event is one line).
    public static func childLine(_ event: ConformanceProgress) -> String {
        switch event {
        case .started(let name): "S\t\(PrintableText.escaped(name))\n"
        case .finished(let check):
            "C\t\(check.outcome.rawValue)\t\(PrintableText.escaped(check.name))\t\(PrintableText.escaped(check.detail))\n"
        }
    }

    /// The line the child writes after the last check.
    public static let doneLine = "D\n"

    /// Runs `executable` with `arguments` (the child side for the plugin at `path`), waits at most `timeout`
    /// seconds, and turns what it wrote and how it ended into a report.
    public static func check(_ path: String, executable: URL, arguments: [String], timeout: Double) -> ConformanceReport {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        // The child's crash backtrace and log lines would bury the report; its results come through `output`.
        process.standardError = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = environment
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        let collected = LockedData()
        let reader = Thread {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            collected.set(data)
        }
        do {
            try process.run()
        } catch {
            return ConformanceReport(
                path: path, plugin: nil,
                checks: [.init(name: "isolation", outcome: .failed, detail: "cannot start \(executable.path): \(error)")])
        }
        reader.start()
        var timedOut = false
        if ended.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            ended.wait()
        }
        while !collected.isSet { usleep(1000) }
        return report(
            path: path, lines: String(decoding: collected.get(), as: UTF8.self), reason: process.terminationReason,
            status: process.terminationStatus, timedOut: timedOut, timeout: timeout)
    }

    /// The report from the child's lines and its end.
    static func report(
        path: String, lines text: String, reason: Process.TerminationReason, status: Int32, timedOut: Bool,
        timeout: Double
    ) -> ConformanceReport {
        var checks: [ConformanceReport.Check] = []
        var running: String?
        var done = false
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "S" where fields.count == 2: running = fields[1]
            case "C" where fields.count == 4:
                checks.append(
                    .init(name: fields[2], outcome: fields[1] == "passed" ? .passed : .failed, detail: fields[3]))
                running = nil
            case "D": done = true
            default: break
            }
        }
        if !done {
            // The line already names the check that was running; the detail says how it ended.
            let place = running == nil ? " between checks" : ""
            let detail: String
            if timedOut {
                detail = "did not return within \(timeout.formatted()) s\(place); the check was stopped"
            } else if reason == .uncaughtSignal {
                detail = "crashed with \(signalName(status))\(place)"
            } else {
                detail = "ended the process (exit status \(status))\(place) instead of returning"
            }
            checks.append(.init(name: running ?? "plugin", outcome: .failed, detail: detail))
        }
        return ConformanceReport(path: path, plugin: nil, checks: checks)
    }

    /// `SIGSEGV` for 11, and so on; `signal N` for others.
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGABRT: "SIGABRT", SIGFPE: "SIGFPE",
            SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP", SIGSYS: "SIGSYS",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}

/// Bytes handed from the reader thread to the waiting one.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    func get() -> Data { lock.withLock { data ?? Data() } }
}
