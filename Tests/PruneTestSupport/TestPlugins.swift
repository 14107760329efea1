import Foundation

/// Where the example plugins are built, and the negative plugin fixtures (`Tests/PrunePluginHostTests/Fixtures/*.c`)
/// compiled on demand; used by the plugin host's tests and the CLI's.
package enum TestPlugins {
    /// The package's root directory.
    package static let packageRoot = Repository.root

    /// The file-name suffix of shared libraries on this platform.
    #if os(macOS)
        package static let librarySuffix = ".dylib"
    #else
        package static let librarySuffix = ".so"
    #endif

    /// The folder `swift build` put the dynamic products in: `PRUNE_TEST_PLUGIN_DIR`, else next to the test binary.
    package static let buildDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["PRUNE_TEST_PLUGIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        #if os(Linux)
            if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                return URL(fileURLWithPath: executable).deletingLastPathComponent()
            }
        #endif
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    /// The FPGM example plugin (C).
    package static var fpgm: String { library("PruneFPGM") }
    /// The KMeans example plugin (Swift).
    package static var kmeans: String { library("PruneKMeans") }

    private static func library(_ product: String) -> String {
        buildDirectory.appendingPathComponent("lib\(product)\(librarySuffix)").path
    }

    /// A private folder for compiled fixtures and files the tests make (mode 0700, so it passes trust checks).
    ///
    /// One per test process, under a per-user parent; folders of processes that have ended are removed here.
    package static let scratch: URL = {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("prune-plugin-tests-\(getuid())")
        try? FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        chmod(parent.path, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] {
            guard name.hasPrefix("run-"), let pid = Int32(name.dropFirst(4)), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
        let url = parent.appendingPathComponent("run-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o700)
        return url
    }()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: String] = [:]

    /// The fixture `Tests/PrunePluginHostTests/Fixtures/<name>.c` compiled with `cc -shared -fPIC` (once per run).
    package static func fixture(_ name: String) throws -> String {
        try lock.withLock {
            if let path = built[name] { return path }
            let source = packageRoot.appendingPathComponent("Tests/PrunePluginHostTests/Fixtures/\(name).c")
            let output = try compile(source, into: scratch)
            built[name] = output
            return output
        }
    }

    /// Compiles one C file against prune_plugin.h into `lib<name>.so` in `folder`.
    package static func compile(_ source: URL, into folder: URL) throws -> String {
        let include = packageRoot.appendingPathComponent("Sources/CPrunePlugin/include").path
        let name = source.deletingPathExtension().lastPathComponent
        let output = folder.appendingPathComponent("lib\(name)\(librarySuffix)").path
        try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O1", "-I", include, "-o", output, source.path, "-lm"])
        return output
    }

    /// A fresh subfolder of the scratch folder with `mode`.
    package static func folder(_ name: String, mode: mode_t = 0o700) throws -> URL {
        let url = scratch.appendingPathComponent(name + "-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, mode)
        return url
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError(
                message: "\(arguments.joined(separator: " ")): \(String(decoding: output, as: UTF8.self))")
        }
    }

    /// A fixture that did not compile, with the compiler's output.
    package struct FixtureError: Error, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }
}
