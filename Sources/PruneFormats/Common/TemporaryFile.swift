import Foundation
import PruneCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file an ``AtomicFileWriter`` writes into before it is moved into place.
///
/// On Linux it is an unnamed file (`O_TMPFILE`) in the destination's folder, linked into place with `linkat`
/// at the end, so a killed process leaves nothing. Elsewhere, or where the filesystem refuses `O_TMPFILE`, it
/// is a named file `.NAME.prunekit-PID-XXXXXX`, registered with ``TemporaryFiles`` so a signal removes it.
final class TemporaryFile {
    /// The open, writable descriptor.
    let fd: Int32
    /// The name while the file has one (the fallback, or between link and rename when overwriting).
    private var path: String?
    private let directory: String
    private let name: String
    private var committed = false

    /// Creates the file in `directory` for a destination called `name`, with permission bits `mode`.
    init(directory: String, name: String, mode: mode_t) throws {
        self.directory = directory
        self.name = name
        #if os(Linux)
            // O_TMPFILE is `__O_TMPFILE | O_DIRECTORY`; Swift does not import the composite macro.
            let unnamed = open(directory, 0o20_000_000 | O_DIRECTORY | O_WRONLY | O_CLOEXEC, mode)
            if unnamed >= 0 {
                fd = unnamed
                path = nil
                return
            }
        #endif
        (fd, path) = try TemporaryFile.named(directory: directory, name: name)
    }

    /// A fresh named file `.NAME.prunekit-PID-XXXXXX` in `directory`, registered for removal on signals.
    private static func named(directory: String, name: String) throws -> (Int32, String) {
        var template = Array("\(directory)/\(TemporaryFiles.prefix(for: name))\(getpid())-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw PruneError(.writeFailed, "\(directory)/\(name): cannot create a file in \(directory): \(errnoText())")
        }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        TemporaryFiles.register(path)
        return (fd, path)
    }

    /// Gives the finished file the name `destination`: replacing a file there when `overwrite`, else failing
    /// with `outputExists` if one appeared meanwhile.
    func commit(to destination: String, overwrite: Bool) throws {
        func failure() -> PruneError {
            if errno == EEXIST {
                return PruneError(.outputExists, "\(destination) already exists", hint: .allowOverwrite)
            }
            return PruneError(.writeFailed, "\(destination): cannot move the finished file into place: \(errnoText())")
        }
        if path == nil {
            let source = "/proc/self/fd/\(fd)"
            if !overwrite {
                guard linkat(AT_FDCWD, source, AT_FDCWD, destination, AT_SYMLINK_FOLLOW) == 0 else { throw failure() }
                committed = true
                return
            }
            // rename(2) is the only atomic replacement; it needs a name, held only for this step.
            var linked = false
            for _ in 0..<16 where !linked {
                let candidate = "\(directory)/\(TemporaryFiles.prefix(for: name))\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                TemporaryFiles.register(candidate)
                if linkat(AT_FDCWD, source, AT_FDCWD, candidate, AT_SYMLINK_FOLLOW) == 0 {
                    path = candidate
                    linked = true
                } else {
                    let code = errno
                    TemporaryFiles.unregister(candidate)
                    errno = code
                    if errno != EEXIST { throw failure() }
                }
            }
            guard linked else { throw failure() }
        }
        guard let path else { return }
        if overwrite {
            guard rename(path, destination) == 0 else { throw failure() }
        } else {
            guard link(path, destination) == 0 else { throw failure() }
            unlink(path)
        }
        TemporaryFiles.unregister(path)
        self.path = nil
        committed = true
    }

    /// Closes the file and, unless it was committed, removes any name it has.
    func discard() {
        close(fd)
        if let path {
            unlink(path)
            TemporaryFiles.unregister(path)
        }
    }
}

/// Named temporary files of this process, removed when SIGINT, SIGTERM or SIGHUP arrives; and the reclaiming
/// of those left by processes that are gone (killed with SIGKILL while a named file existed).
enum TemporaryFiles {
    private static let slotCount = 64
    /// `strdup`ed paths; read by the signal handler, so a fixed array of C strings and nothing that allocates.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: slotCount)
        slots.initialize(repeating: nil, count: slotCount)
        return slots
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var handlersInstalled = false

    /// The start of every temporary name for destination `name`.
    static func prefix(for name: String) -> String { ".\(name).prunekit-" }

    /// Records `path` for removal on a signal (installing the handlers on first use).
    static func register(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        if !handlersInstalled {
            for signal in [SIGINT, SIGTERM, SIGHUP] { installHandler(signal) }
            handlersInstalled = true
        }
        for index in 0..<slotCount where slots[index] == nil {
            slots[index] = strdup(path)
            return
        }
    }

    /// Forgets `path` (it was renamed into place or removed).
    static func unregister(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        for index in 0..<slotCount {
            guard let entry = slots[index], String(cString: entry) == path else { continue }
            slots[index] = nil
            free(entry)
        }
    }

    private static func installHandler(_ signal: Int32) {
        var action = sigaction()
        #if os(Linux)
            action.__sigaction_handler.sa_handler = { received in TemporaryFiles.removeAllAndReraise(received) }
        #else
            action.__sigaction_u.__sa_handler = { received in TemporaryFiles.removeAllAndReraise(received) }
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
    }

    /// The signal handler: unlinks every registered file, restores the default action and raises the signal
    /// again, so the process ends as it would have without PruneKit's handler. Only async-signal-safe calls.
    private static func removeAllAndReraise(_ received: Int32) {
        for index in 0..<slotCount {
            if let entry = slots[index] { unlink(entry) }
        }
        #if canImport(Glibc)
            Glibc.signal(received, SIG_DFL)
        #else
            Darwin.signal(received, SIG_DFL)
        #endif
        raise(received)
    }

    /// Removes temporaries of destination `name` in `directory` whose process (the PID in the name) is gone.
    static func reclaimStale(in directory: String, for name: String) {
        let start = prefix(for: name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(start) {
            let rest = entry.dropFirst(start.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            if pid != getpid(), kill(pid, 0) == -1, errno == ESRCH {
                unlink("\(directory)/\(entry)")
            }
        }
    }
}
