import Foundation
import PruneCore

#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Writes a file atomically: into a temporary file beside the destination, moved into place only when complete.
///
/// Without `overwrite`, the final step is a hard link that fails if the destination appeared meanwhile, so an
/// existing file is never replaced by accident. A failed write leaves no temporary file behind.
public enum AtomicFileWriter {
    /// Writes the bytes `body` produces to `url`.
    ///
    /// - Parameters:
    ///   - sources: input files that must never be the destination, whatever `overwrite` says.
    ///   - overwrite: whether an existing file at `url` may be replaced.
    /// - Returns: the number of bytes written.
    /// - Throws: `PruneError.Kind.outputExists` or `.writeFailed`, naming the file; whatever `body` throws.
    public static func write(
        to url: URL, overwrite: Bool, sources: [URL] = [], _ body: (FileSink) throws -> Void
    ) throws -> Int {
        let destination = url.standardizedFileURL
        for source in sources where sameFile(source, destination) {
            throw PruneError(.outputExists, "\(url.path) is an input file; PruneKit never modifies its inputs")
        }
        if !overwrite, FileManager.default.fileExists(atPath: destination.path) {
            throw PruneError(.outputExists, "\(url.path) already exists (use --force to overwrite it)")
        }
        let directory = destination.deletingLastPathComponent().path
        var template = Array("\(directory)/.\(destination.lastPathComponent).prunekit-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw PruneError(.writeFailed, "\(url.path): cannot create a file in \(directory): \(errnoText())")
        }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var committed = false
        defer {
            if !committed { unlink(temporary) }
        }
        let sink = FileSink(fd: fd, path: url.path)
        do {
            try body(sink)
            try sink.flush()
            fchmod(fd, 0o644 & ~currentUmask())
            guard fsync(fd) == 0 else { throw PruneError(.writeFailed, "\(url.path): \(errnoText())") }
            close(fd)
        } catch {
            close(fd)
            throw error
        }
        if overwrite {
            guard rename(temporary, destination.path) == 0 else {
                throw PruneError(.writeFailed, "\(url.path): cannot move the finished file into place: \(errnoText())")
            }
        } else {
            guard link(temporary, destination.path) == 0 else {
                if errno == EEXIST {
                    throw PruneError(.outputExists, "\(url.path) already exists (use --force to overwrite it)")
                }
                throw PruneError(.writeFailed, "\(url.path): cannot move the finished file into place: \(errnoText())")
            }
            unlink(temporary)
        }
        committed = true
        return sink.bytesWritten
    }

    private static func sameFile(_ a: URL, _ b: URL) -> Bool {
        var sa = stat()
        var sb = stat()
        guard stat(a.path, &sa) == 0, stat(b.path, &sb) == 0 else {
            return a.standardizedFileURL.path == b.standardizedFileURL.path
        }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    private static func currentUmask() -> mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }
}

/// A buffered writer on an open file, used inside ``AtomicFileWriter/write(to:overwrite:sources:_:)``.
public final class FileSink {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private let capacity = 1 << 20
    /// Bytes accepted so far.
    public private(set) var bytesWritten = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(capacity)
    }

    /// Appends `bytes` to the file.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += bytes.count
        if bytes.count >= capacity {
            try flush()
            try writeFully(bytes)
            return
        }
        if buffer.count + bytes.count > capacity { try flush() }
        buffer.append(contentsOf: bytes)
    }

    /// Appends `bytes` to the file.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Sends buffered bytes to the file.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeFully($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw PruneError(.writeFailed, "\(path): \(errnoText())")
            }
            offset += n
        }
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }
