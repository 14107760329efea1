import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only, private memory mapping of a whole file; unmapped when the last reference goes away.
///
/// Pages are read from disk only when touched, so opening a model costs nothing until its tensors are used.
/// `releaseResidentPages` drops touched pages from this process's resident set once a tensor is done with
/// (the kernel keeps them in its page cache), which keeps peak RSS near one tensor instead of the whole file.
package final class MappedFile: @unchecked Sendable {
    /// The file this mapping shows.
    package let url: URL
    /// The first byte of the mapping (nil for an empty file).
    package let base: UnsafeRawPointer?
    /// The file's size in bytes.
    package let size: Int

    /// Maps `url` read-only.
    ///
    /// A FIFO, device or socket is refused before it is opened (opening a FIFO for reading would block until a
    /// writer appears), and the opened descriptor is checked again, so a file swapped in between is refused too.
    ///
    /// - Throws: `PruneError` naming the file when it cannot be opened, is not a regular file, or cannot be mapped.
    package init(url: URL) throws {
        self.url = url
        try MappedFile.requireRegularFile(url)
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw PruneError(.fileUnreadable, "\(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw PruneError(.fileUnreadable, "\(url.path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw PruneError(.fileUnreadable, "\(url.path): not a regular file (\(MappedFile.fileKind(info.st_mode)))")
        }
        size = Int(info.st_size)
        if size == 0 {
            base = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw PruneError(.fileUnreadable, "\(url.path): cannot map file: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(address)
    }

    /// Throws unless `url` names a regular file (after following symbolic links); nothing is opened.
    ///
    /// - Throws: `PruneError.Kind.fileUnreadable` naming the file when it is missing or is a FIFO, device, socket
    ///   or directory.
    package static func requireRegularFile(_ url: URL) throws {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw PruneError(.fileUnreadable, "\(url.path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw PruneError(.fileUnreadable, "\(url.path): not a regular file (\(fileKind(info.st_mode)))")
        }
    }

    /// A word for the kind of file `mode` describes.
    package static func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "regular file"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "an unknown kind of file"
        }
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// The bytes `range` of the file, without copying.
    package func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "range outside \(url.path)")
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Tells the kernel this process is done with `range` for now: its pages leave the resident set.
    package func releaseResidentPages(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound / page) * page
        let end = min(size, range.upperBound)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }
}
