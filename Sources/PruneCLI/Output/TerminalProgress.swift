import Foundation
import PruneKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-line progress indicator on stderr with the time left, shown only on a terminal (nothing on a pipe or
/// file) and only once work has run for a second.
final class TerminalProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawn = false
    private var phase = ""
    private var phaseStart = ContinuousClock.now
    private let enabled: Bool

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    func update(phase: String, completed: Int, total: Int) {
        guard enabled else { return }
        lock.withLock {
            let now = ContinuousClock.now
            if phase != self.phase {
                self.phase = phase
                phaseStart = now
            }
            guard now - start > .seconds(1), now - lastDraw > .milliseconds(100) || completed == total else { return }
            lastDraw = now
            drawn = true
            let line = Self.line(phase: phase, completed: completed, total: total, elapsed: (now - phaseStart).seconds)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        }
    }

    func finish() {
        lock.withLock {
            if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            drawn = false
            phase = ""
        }
    }

    /// The text of one progress line: the phase, the count with its percentage when there is more than one step,
    /// and the time left at the rate so far once a step is done (`calibrating 3/10 (30%), about 14 s left`).
    static func line(phase: String, completed: Int, total: Int, elapsed: Double) -> String {
        guard total > 1 else { return "\(phase)…" }
        let percent = completed * 100 / total
        var text = "\(phase) \(completed)/\(total) (\(percent)%)"
        if completed > 0, completed < total, elapsed > 0 {
            let left = elapsed / Double(completed) * Double(total - completed)
            text += ", about \(duration(left)) left"
        }
        return text
    }

    /// `left` seconds rounded for reading: `8 s`, `2 min 5 s`, `1 h 4 min`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        if total < 60 { return "\(max(total, 1)) s" }
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }
}
