import Foundation

/// An error about a plugin: a kind to match on and a one-line message that names the plugin file (and, where it
/// applies, the plugin, component and parameter).
///
/// New kinds can be added without breaking code that matches on existing ones.
public struct PluginError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// What went wrong, broadly; compare with the static members.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A short name for the kind.
        public var description: String { name }

        /// The path names no file.
        public static let notFound = Kind("not found")
        /// The file is not a loadable shared library (not ELF/Mach-O, truncated, wrong architecture).
        public static let notSharedLibrary = Kind("not a shared library")
        /// The library needs symbols that nothing provides.
        public static let unresolvedSymbols = Kind("unresolved symbols")
        /// The library does not export `prune_plugin_entry`.
        public static let missingEntry = Kind("missing entry symbol")
        /// ABI major differs, minor is newer than the host's, or the descriptor's size is not the known one.
        public static let abiMismatch = Kind("ABI mismatch")
        /// The descriptor or a registration is malformed (no name, a bad signature, a null function).
        public static let invalidDescriptor = Kind("invalid descriptor")
        /// The plugin's `init` returned an error.
        public static let initFailed = Kind("init failed")
        /// A component name is taken already (by a built-in or another plugin file).
        public static let duplicateName = Kind("duplicate name")
        /// The file or its directory is writable by other users and insecure plugins were not allowed.
        public static let insecure = Kind("insecure")
        /// The file's SHA-256 differs from the one the recipe pins.
        public static let checksumMismatch = Kind("checksum mismatch")
        /// A component call returned an error status.
        public static let callFailed = Kind("call failed")
        /// A component's output broke its contract (wrong length, non-finite values, bad flags).
        public static let invalidOutput = Kind("invalid output")
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// The absolute path of the plugin file involved.
    public let path: String
    /// What went wrong, without the file's path.
    public let detail: String

    /// Creates an error about the plugin file at `path`.
    public init(_ kind: Kind, path: String, _ detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// One line saying what went wrong, naming the file.
    public var message: String { "plugin \(path): \(detail)" }

    /// The message.
    public var description: String { message }
    /// The message, for `localizedDescription`.
    public var errorDescription: String? { message }
}
