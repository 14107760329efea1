import Foundation
import Logging

/// `PRUNE_PLUGIN_PATH`: directories whose shared libraries are loaded as plugins.
public enum PluginSearchPath {
    /// The environment variable's name.
    public static let variable = "PRUNE_PLUGIN_PATH"

    /// The directories listed in `PRUNE_PLUGIN_PATH` (colon-separated; empty entries ignored).
    public static func directories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        (environment[variable] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// The file name suffix of shared libraries on this platform.
    public static var librarySuffix: String {
        #if os(macOS)
            ".dylib"
        #else
            ".so"
        #endif
    }

    /// The shared libraries directly inside `directory`, sorted by name.
    ///
    /// A directory that does not exist is skipped with a warning; one that group or others can write is refused.
    static func libraries(in directory: String, options: PluginLoadOptions, logger: Logger) throws
        -> [PluginReference]
    {
        let absolute = URL(fileURLWithPath: (directory as NSString).expandingTildeInPath).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            logger.warning(
                "\(variable) names a directory that does not exist", metadata: ["directory": .string(absolute)])
            return []
        }
        try FileTrust.checkDirectory(absolute, allowInsecure: options.allowInsecure)
        let names = try FileManager.default.contentsOfDirectory(atPath: absolute)
        return names.filter { $0.hasSuffix(librarySuffix) }.sorted().map {
            PluginReference(path: URL(fileURLWithPath: absolute).appendingPathComponent($0).path)
        }
    }
}
