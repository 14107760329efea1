import Foundation

/// Where a plugin path really leads, and whether other users could have changed what is there.
enum FileTrust {
    /// The absolute, symlink-free path of `path`, relative paths taken from `base` (default: the working
    /// directory).
    ///
    /// - Throws: `PluginError.Kind.notFound` when nothing is there.
    static func resolve(_ path: String, relativeTo base: URL? = nil) throws -> String {
        let expanded = (path as NSString).expandingTildeInPath
        let absolute: String
        if expanded.hasPrefix("/") {
            absolute = expanded
        } else {
            let directory = base?.path ?? FileManager.default.currentDirectoryPath
            absolute = URL(fileURLWithPath: directory).appendingPathComponent(expanded).path
        }
        guard let real = realpath(absolute, nil) else {
            throw PluginError(.notFound, path: absolute, "not found")
        }
        defer { free(real) }
        return String(cString: real)
    }

    /// Checks that `path` (absolute, resolved) is a regular file owned by the current user or root, that neither
    /// its group nor others can write, in a directory they cannot write either.
    ///
    /// - Throws: `PluginError` `.notSharedLibrary` for a directory or other non-file, `.insecure` naming what is
    ///   writable, unless `allowInsecure`.
    static func check(_ path: String, allowInsecure: Bool) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw PluginError(.notFound, path: path, "not found") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw PluginError(.notSharedLibrary, path: path, "not a regular file")
        }
        if allowInsecure { return }
        if info.st_uid != 0, info.st_uid != geteuid() {
            throw PluginError(
                .insecure, path: path,
                "refused: the file is owned by user \(info.st_uid), neither you (\(geteuid())) nor root; whoever owns it can change what runs")
        }
        if let problem = writableByOthers(path: path, mode: info.st_mode, what: "the file") {
            throw PluginError(.insecure, path: path, problem)
        }
        let directory = (path as NSString).deletingLastPathComponent
        var directoryInfo = stat()
        if stat(directory, &directoryInfo) == 0,
            let problem = writableByOthers(path: directory, mode: directoryInfo.st_mode, what: "its directory")
        {
            throw PluginError(.insecure, path: path, problem)
        }
    }

    /// Checks that a plugin directory (from `PRUNE_PLUGIN_PATH`) cannot be written by group or others.
    static func checkDirectory(_ path: String, allowInsecure: Bool) throws {
        guard !allowInsecure else { return }
        var info = stat()
        guard stat(path, &info) == 0 else { throw PluginError(.notFound, path: path, "plugin directory not found") }
        if let problem = writableByOthers(path: path, mode: info.st_mode, what: "the plugin directory") {
            throw PluginError(.insecure, path: path, problem)
        }
    }

    private static func writableByOthers(path: String, mode: mode_t, what: String) -> String? {
        let writers = [(S_IWGRP, "its group"), (S_IWOTH, "other users")].filter { mode & $0.0 != 0 }.map(\.1)
        guard !writers.isEmpty else { return nil }
        return
            "refused: \(what) (\(path), mode \(String(mode & 0o7777, radix: 8))) is writable by \(writers.joined(separator: " and "))"
    }
}
