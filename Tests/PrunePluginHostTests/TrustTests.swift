import Foundation
import Logging
import PruneCore
import PruneTestSupport
import Testing

@testable import PrunePluginHost

/// Loading is explicit and refuses files others could have changed or that differ from a pinned digest.
@Suite struct TrustTests {
    /// A private copy of the FPGM plugin in a folder of `folderMode`, the file itself with `fileMode`.
    private func copyOfFPGM(folderMode: mode_t = 0o700, fileMode: mode_t = 0o755) throws -> String {
        let folder = try TestPlugins.folder("trust", mode: 0o700)
        let path = folder.appendingPathComponent("libfpgm-copy.so").path
        try FileManager.default.copyItem(atPath: TestPlugins.fpgm, toPath: path)
        chmod(path, fileMode)
        chmod(folder.path, folderMode)
        return path
    }

    @Test func worldWritableFileIsRefused() throws {
        let path = try copyOfFPGM(fileMode: 0o666)
        let error = try #require(throws: PluginError.self) { try TestPlugins.load(path) }
        #expect(error.kind == .insecure)
        #expect(error.message.contains(path))
        #expect(error.message.contains("other users"))
        #expect(!error.message.contains("--"), "library errors name no command-line flag: \(error.message)")
    }

    @Test func groupWritableDirectoryIsRefused() throws {
        let path = try copyOfFPGM(folderMode: 0o770)
        let error = try #require(throws: PluginError.self) { try TestPlugins.load(path) }
        #expect(error.kind == .insecure)
        #expect(error.message.contains("its directory"))
    }

    @Test func insecureFileLoadsWhenAllowed() throws {
        let path = try copyOfFPGM(fileMode: 0o666)
        let (plugin, registry) = try TestPlugins.load(path, options: PluginLoadOptions(allowInsecure: true))
        #expect(plugin.name == "fpgm")
        #expect(registry.info(.scorer, named: "fpgm")?.source == .plugin(path: path))
    }

    @Test func pinnedDigestMustMatch() throws {
        let path = try copyOfFPGM()
        let wrong = String(repeating: "0", count: 64)
        let error = try #require(throws: PluginError.self) { try TestPlugins.load(path, sha256: wrong) }
        #expect(error.kind == .checksumMismatch)
        #expect(error.message.contains(path))
        #expect(error.message.contains(wrong))

        let actual = try SHA256.hex(ofFileAt: path)
        let (plugin, _) = try TestPlugins.load(path, sha256: actual.uppercased())
        #expect(plugin.sha256 == actual)
    }

    @Test func searchPathDirectoriesLoadEveryLibraryOnce() throws {
        let folder = try TestPlugins.folder("search")
        let fpgm = folder.appendingPathComponent("libfpgm.so").path
        try FileManager.default.copyItem(atPath: TestPlugins.fpgm, toPath: fpgm)
        try FileManager.default.copyItem(
            atPath: TestPlugins.kmeans, toPath: folder.appendingPathComponent("libkmeans.so").path)
        try "ignored".write(to: folder.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
        let environment = [PluginSearchPath.variable: "\(folder.path)::/nonexistent-prune-plugins"]
        let directories = PluginSearchPath.directories(environment: environment)
        #expect(directories == [folder.path, "/nonexistent-prune-plugins"])

        let registry = ComponentRegistry()
        // The missing directory is logged as a warning; a passing run stays quiet.
        let loader = PluginLoader(logger: Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        let loaded = try loader.loadAll(
            [PluginReference(path: fpgm)], directories: directories, into: registry)
        #expect(loaded.map(\.name) == ["fpgm", "kmeans"])
        #expect(registry.components.map(\.name) == ["fpgm", "kmeans"])
    }

    @Test func writablePluginDirectoryIsRefused() throws {
        let folder = try TestPlugins.folder("open", mode: 0o777)
        let loader = PluginLoader(logger: Logger(label: "tests"))
        let error = try #require(throws: PluginError.self) {
            try loader.loadAll([], directories: [folder.path], into: ComponentRegistry())
        }
        #expect(error.kind == .insecure)
        #expect(error.message.contains(folder.path))
    }
}
