import Foundation
import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// Crafted plugin files from issue 12: refused with an error naming the file before `dlopen` can crash.
@Suite("Hostile plugin files")
struct HostilePluginTests {
    @Test("a plugin truncated to its first 4 KB is refused before dlopen (it raised SIGBUS there)")
    func truncatedLibraryRefused() throws {
        let folder = try TestPlugins.folder("truncated")
        let truncated = folder.appendingPathComponent("libtruncated.so")
        let whole = try Data(contentsOf: URL(fileURLWithPath: TestPlugins.fpgm))
        try whole.prefix(4096).write(to: truncated)
        chmod(truncated.path, 0o644)
        let error = #expect(throws: PluginError.self) { try TestPlugins.load(truncated.path) }
        #expect(error?.kind == .notSharedLibrary)
        #expect(error?.message.contains("is it truncated?") == true)
        #expect(error?.message.contains(truncated.path) == true)
        // The whole library passes the same check.
        try ELFCheck.validate(TestPlugins.fpgm)
    }

    @Test("headers with counts and offsets that overflow are refused, not trusted")
    func craftedHeadersRefused() throws {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes[0...5] = [0x7F, 0x45, 0x4C, 0x46, 2, 1]
        bytes[16] = 3
        // Program headers at offset 2^64 − 8, 65535 entries of 65535 bytes.
        for i in 32..<40 { bytes[i] = 0xFF }
        bytes[32] = 0xF8
        bytes[54] = 0xFF; bytes[55] = 0xFF; bytes[56] = 0xFF; bytes[57] = 0xFF
        #expect(throws: PluginError.self) { try bytes.withUnsafeBytes { try ELFCheck.validate($0, path: "crafted.so") } }
        let short = [UInt8](repeating: 0x7F, count: 10)
        #expect(throws: PluginError.self) { try short.withUnsafeBytes { try ELFCheck.validate($0, path: "short.so") } }
    }

    @Test("a plugin owned by another non-root user is refused unless allowed")
    func foreignOwnerRefused() throws {
        guard geteuid() == 0 else { return }  // Only root can give a file away.
        let folder = try TestPlugins.folder("foreign")
        let copy = folder.appendingPathComponent("libforeign.so")
        try FileManager.default.copyItem(atPath: TestPlugins.fpgm, toPath: copy.path)
        chmod(copy.path, 0o644)
        #expect(chown(copy.path, 4242, 4242) == 0)
        let error = #expect(throws: PluginError.self) { try TestPlugins.load(copy.path) }
        #expect(error?.kind == .insecure)
        #expect(error?.message.contains("owned by user 4242") == true)
        var options = PluginLoadOptions()
        options.allowInsecure = true
        try TestPlugins.load(copy.path, options: options)
    }
}

@Suite("Hostile plugin structs")
struct HostileStructTests {
    @Test("a component whose struct_size is 2^31 - 1 is refused at registration")
    func nonsensicalStructSizeRefused() throws {
        let error = #expect(throws: PluginError.self) { try TestPlugins.load(try TestPlugins.fixture("huge_struct_size")) }
        #expect(error?.message.contains("prune_component.struct_size is 2147483647, expected") == true)
    }
}
