import Foundation
import PruneCore

#if canImport(Glibc)
    import Glibc
    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let systemWrite = Darwin.write
#endif

/// Writes a file atomically: into an unnamed temporary file in the destination's folder, linked into place only
/// when complete.
///
/// - The temporary file has no name (`O_TMPFILE`) while it is written, so an interrupted run, even one killed
///   with SIGKILL, leaves nothing behind; where the filesystem lacks `O_TMPFILE`, a named
///   `.NAME.prunekit-PID-XXXXXX` file is used, removed on SIGINT, SIGTERM and SIGHUP (``TemporaryFiles``), and
///   reclaimed by the next write to that folder once its process is gone.
/// - Only regular files are written or replaced: a destination that is a FIFO, device, socket or directory is
///   refused, whatever `overwrite` says.
/// - The output's permission bits are those of the inputs (the bits all of them share, never execute bits) under
///   the umask, or 0644 under the umask without inputs, so a 0600 input gives a 0600 output.
/// - Without `overwrite`, the final step is a hard link that fails if the destination appeared meanwhile, so an
///   existing file is never replaced by accident.
public enum AtomicFileWriter {
    /// Writes the bytes `body` produces to `url`.
    ///
    /// - Parameters:
    ///   - sources: input files that must never be the destination, whatever `overwrite` says; their permission
    ///     bits bound the output's.
    ///   - overwrite: whether an existing regular file at `url` may be replaced.
    /// - Returns: the number of bytes written.
    /// - Throws: `PruneError.Kind.outputExists` or `.writeFailed`, naming the file; whatever `body` throws.
    public static func write(
        to url: URL, overwrite: Bool, sources: [URL] = [], _ body: (FileSink) throws -> Void
    ) throws -> Int {
        let destination = url.standardizedFileURL
        try checkDestination(destination, overwrite: overwrite, sources: sources)
        let directory = destination.deletingLastPathComponent().path
        let mode = outputMode(sources: sources)
        TemporaryFiles.reclaimStale(in: directory, for: destination.lastPathComponent)
        let temporary = try TemporaryFile(directory: directory, name: destination.lastPathComponent, mode: mode)
        defer { temporary.discard() }
        let sink = FileSink(fd: temporary.fd, path: url.path)
        try body(sink)
        try sink.flush()
        fchmod(temporary.fd, mode)
        guard fsync(temporary.fd) == 0 else { throw PruneError(.writeFailed, "\(url.path): \(errnoText())") }
        try temporary.commit(to: destination.path, overwrite: overwrite)
        return sink.bytesWritten
    }

    /// Refuses a destination that is an input, that exists without `overwrite`, or that is not a regular file.
    static func checkDestination(_ destination: URL, overwrite: Bool, sources: [URL]) throws {
        for source in sources where sameFile(source, destination) {
            throw PruneError(.outputExists, "\(destination.path) is an input file; PruneKit never modifies its inputs")
        }
        var info = stat()
        guard lstat(destination.path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFLNK {
            var target = stat()
            if stat(destination.path, &target) == 0 { info = target }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFLNK else {
            throw PruneError(
                .writeFailed,
                "\(destination.path) is \(MappedFile.fileKind(info.st_mode)), not a regular file; PruneKit writes only regular files")
        }
        if !overwrite {
            throw PruneError(.outputExists, "\(destination.path) already exists", hint: .allowOverwrite)
        }
    }

    /// The permission bits for an output written from `sources`: the read/write bits every source has, under the
    /// umask; 0644 under the umask when there is no readable source.
    static func outputMode(sources: [URL]) -> mode_t {
        var bits: mode_t = 0o666
        var found = false
        for source in sources {
            var info = stat()
            guard stat(source.path, &info) == 0 else { continue }
            bits &= info.st_mode & 0o666
            found = true
        }
        return (found ? bits : 0o644) & ~currentUmask()
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

func errnoText() -> String { String(cString: strerror(errno)) }
