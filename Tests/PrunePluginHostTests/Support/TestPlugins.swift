import Foundation
import Logging
import PruneCore
import PrunePluginHost

/// Where the example plugins are, and the negative fixtures compiled on demand.
enum TestPlugins {
    /// The package's root directory.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder `swift build` put the dynamic products in: `PRUNE_TEST_PLUGIN_DIR`, else next to the test binary.
    static let buildDirectory: URL = {
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
    static var fpgm: String { library("PruneFPGM") }
    /// The KMeans example plugin (Swift).
    static var kmeans: String { library("PruneKMeans") }

    private static func library(_ product: String) -> String {
        buildDirectory.appendingPathComponent("lib\(product)\(PluginSearchPath.librarySuffix)").path
    }

    /// A private folder for compiled fixtures and files the tests make (mode 0700, so it passes trust checks).
    ///
    /// One per test process, under a per-user parent; folders of processes that have ended are removed here.
    static let scratch: URL = {
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

    /// The fixture `Fixtures/<name>.c` compiled with `cc -shared -fPIC` (once per test run).
    static func fixture(_ name: String) throws -> String {
        try lock.withLock {
            if let path = built[name] { return path }
            let source = packageRoot.appendingPathComponent("Tests/PrunePluginHostTests/Fixtures/\(name).c")
            let output = try compile(source, into: scratch)
            built[name] = output
            return output
        }
    }

    /// Compiles one C file against prune_plugin.h into `lib<name>.so` in `folder`.
    static func compile(_ source: URL, into folder: URL) throws -> String {
        let include = packageRoot.appendingPathComponent("Sources/CPrunePlugin/include").path
        let name = source.deletingPathExtension().lastPathComponent
        let output = folder.appendingPathComponent("lib\(name)\(PluginSearchPath.librarySuffix)").path
        try run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O1", "-I", include, "-o", output, source.path, "-lm"])
        return output
    }

    /// A fresh subfolder of the scratch folder with `mode`.
    static func folder(_ name: String, mode: mode_t = 0o700) throws -> URL {
        let url = scratch.appendingPathComponent(name + "-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, mode)
        return url
    }

    /// Loads `path` into a fresh (or the given) registry.
    @discardableResult
    static func load(
        _ path: String, into registry: ComponentRegistry = ComponentRegistry(),
        options: PluginLoadOptions = PluginLoadOptions(), sha256: String? = nil
    ) throws -> (LoadedPlugin, ComponentRegistry) {
        let loader = PluginLoader(options: options, logger: Logger(label: "tests"))
        return (try loader.load(PluginReference(path: path, sha256: sha256), into: registry), registry)
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

    struct FixtureError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// Small models for scoring.
enum TestModels {
    /// A float32 parameter.
    static func parameter(_ name: String, _ shape: [Int], _ values: [Float], layout: WeightLayout? = nil) -> Parameter {
        Parameter(name: name, tensor: Tensor(shape: shape, values: values), layout: layout)
    }

    /// A model of the given parameters.
    static func model(_ parameters: Parameter...) throws -> Model {
        try Model(parameters: parameters)
    }

    /// A context for `model`.
    static func context(_ model: Model, seed: UInt64 = 0) -> PruneContext {
        PruneContext(model: model, seed: seed, threads: 1)
    }
}

extension Error {
    /// The error's message as users see it.
    var message: String { String(describing: self) }
}
