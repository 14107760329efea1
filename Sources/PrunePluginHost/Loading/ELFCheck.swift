import Foundation
import PruneCore

/// Checks an ELF shared library's headers against the file's size before `dlopen` maps it.
///
/// `dlopen` maps every loadable segment as the program headers describe it; a segment that runs past the end of
/// a truncated file faults (SIGBUS) inside the dynamic loader, where no error can be returned. Reading the
/// headers first turns that into a ``PluginError`` naming the file.
package enum ELFCheck {
    /// Throws unless `path` starts with a well-formed 64-bit little-endian ELF header whose program and section
    /// header tables, and every loadable or dynamic segment, lie inside the file.
    ///
    /// - Throws: `PluginError.Kind.notSharedLibrary` naming the file and what is wrong.
    package static func validate(_ path: String) throws {
        let file: MappedFile
        do {
            file = try MappedFile(url: URL(fileURLWithPath: path))
        } catch let error as PruneError {
            throw PluginError(.notSharedLibrary, path: path, error.message)
        }
        try validate(file.bytes(0..<file.size), path: path)
    }

    /// The check on the file's bytes (exposed for tests and fuzzing).
    package static func validate(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ why: String) -> PluginError { PluginError(.notSharedLibrary, path: path, why) }
        let size = bytes.count
        guard size >= 64 else { throw fail("\(size) bytes is too short for an ELF header") }
        guard bytes[0] == 0x7F, bytes[1] == 0x45, bytes[2] == 0x4C, bytes[3] == 0x46 else {
            throw fail("not an ELF file")
        }
        guard bytes[4] == 2, bytes[5] == 1 else { throw fail("not a 64-bit little-endian ELF file") }
        func u16(_ offset: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) }
        func u32(_ offset: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        /// Whether `count` entries of `entrySize` bytes from `offset` fit in the file, without overflow.
        func fits(_ offset: UInt64, _ count: Int, _ entrySize: Int) -> Bool {
            let (span, overflow) = UInt64(count).multipliedReportingOverflow(by: UInt64(entrySize))
            guard !overflow, offset <= UInt64(size) else { return false }
            return span <= UInt64(size) - offset
        }
        let type = u16(16)
        guard type == 3 else { throw fail("ELF type \(type) is not a shared object (3)") }
        let programOffset = u64(32)
        let sectionOffset = u64(40)
        let programEntrySize = u16(54)
        let programCount = u16(56)
        let sectionEntrySize = u16(58)
        let sectionCount = u16(60)
        guard programCount > 0, programEntrySize >= 56, fits(programOffset, programCount, programEntrySize) else {
            throw fail("program headers (\(programCount) at offset \(programOffset)) lie outside the \(size)-byte file; is it truncated?")
        }
        if sectionCount > 0, !fits(sectionOffset, sectionCount, sectionEntrySize) {
            throw fail("section headers (\(sectionCount) at offset \(sectionOffset)) lie outside the \(size)-byte file; is it truncated?")
        }
        for index in 0..<programCount {
            let entry = Int(programOffset) + index * programEntrySize
            let kind = u32(entry)
            // PT_LOAD (1) and PT_DYNAMIC (2) are read from the file by the loader.
            guard kind == 1 || kind == 2 else { continue }
            let offset = u64(entry + 8)
            let fileSize = u64(entry + 32)
            guard fileSize <= UInt64(Int.max), fits(offset, Int(fileSize), 1) else {
                throw fail(
                    "segment \(index) needs bytes \(offset)..<\(offset &+ fileSize) of a \(size)-byte file; is it truncated?")
            }
        }
    }
}
