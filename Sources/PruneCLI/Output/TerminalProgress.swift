import Foundation
import PruneKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-line progress indicator on stderr, shown only on a terminal and only once work has run for a second.
final class TerminalProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var drawn = false
    private let enabled: Bool

    init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    func update(phase: String, completed: Int, total: Int) {
        guard enabled else { return }
        lock.withLock {
            let now = ContinuousClock.now
            guard now - start > .seconds(1), now - lastDraw > .milliseconds(100) || completed == total else { return }
            lastDraw = now
            drawn = true
            let percent = total > 0 ? completed * 100 / total : 0
            let text = "\r\u{1B}[K\(phase) \(completed)/\(total) (\(percent)%)"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    func finish() {
        lock.withLock {
            if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            drawn = false
        }
    }
}
