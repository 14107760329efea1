/// The bytes behind a tensor: a region of a memory-mapped file or memory the tensor owns.
///
/// Immutable once made, so tensors can share it freely across threads.
package final class TensorBytes: @unchecked Sendable {
    private enum Backing {
        case mapped(MappedFile, Range<Int>)
        case owned(UnsafeMutableRawBufferPointer)
    }

    private let backing: Backing

    /// A view of `range` inside a mapped file; nothing is copied.
    package init(mapped file: MappedFile, range: Range<Int>) {
        backing = .mapped(file, range)
    }

    /// Takes a copy of `bytes`.
    package init(copying bytes: UnsafeRawBufferPointer) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        if let source = bytes.baseAddress, bytes.count > 0 {
            buffer.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
        }
        backing = .owned(buffer)
    }

    /// Allocates `count` bytes and lets `fill` write all of them.
    package init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        do {
            try fill(buffer)
        } catch {
            buffer.deallocate()
            throw error
        }
        backing = .owned(buffer)
    }

    deinit {
        if case .owned(let buffer) = backing { buffer.deallocate() }
    }

    /// The bytes, valid while `self` is alive.
    package var raw: UnsafeRawBufferPointer {
        switch backing {
        case .mapped(let file, let range): file.bytes(range)
        case .owned(let buffer): UnsafeRawBufferPointer(buffer)
        }
    }

    /// Drops the pages of a mapped region from the resident set; no effect on owned memory.
    package func releaseResidentPages() {
        if case .mapped(let file, let range) = backing { file.releaseResidentPages(range) }
    }
}
