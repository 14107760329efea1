import Foundation

/// `dlopen` and `dlsym`, with their failures turned into ``PluginError``s that name the file.
///
/// Libraries are opened with `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and never closed: unloading a Swift plugin
/// unmaps type metadata the host may still reach, and a plugin's code must outlive every component it registered.
struct LibraryHandle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// The absolute path opened.
    let path: String

    /// Opens the shared library at the absolute `path`.
    ///
    /// - Throws: `PluginError` `.unresolvedSymbols` when the library needs symbols nothing provides,
    ///   `.notSharedLibrary` for any other `dlopen` failure (with the loader's own words).
    init(path: String) throws {
        precondition(path.hasPrefix("/"), "dlopen needs an absolute path, got \(path)")
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = LibraryHandle.lastError() ?? "dlopen failed"
            if reason.contains("undefined symbol") || reason.contains("symbol not found") {
                throw PluginError(.unresolvedSymbols, path: path, "unresolved symbols: \(reason)")
            }
            throw PluginError(.notSharedLibrary, path: path, "not a loadable shared library: \(reason)")
        }
        self.handle = handle
        self.path = path
    }

    /// The address of `symbol`, or nil when the library does not export it.
    func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        _ = dlerror()
        return dlsym(handle, name)
    }

    private static func lastError() -> String? {
        dlerror().map { String(cString: $0) }
    }
}
