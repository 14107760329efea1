import PruneCore

/// A plugin that loaded: what its descriptor says and what it registered.
public struct LoadedPlugin: Sendable, Hashable {
    /// One registered component.
    public struct Component: Sendable, Hashable {
        /// Kind, name, summary, signature, source and version, as the registry lists it.
        public let info: ComponentInfo
        /// The calibration statistics it declared it reads.
        public let statistics: [String]
        /// Whether the host serializes its calls.
        public let serial: Bool
    }

    /// The absolute path of the file.
    public let path: String
    /// The lowercase hex SHA-256 of the file, for pinning in recipes.
    public let sha256: String
    /// The plugin's name.
    public let name: String
    /// The plugin's version.
    public let version: String
    /// What the plugin does.
    public let description: String
    /// The plugin's license (SPDX identifier).
    public let license: String
    /// The ABI major version it was built against.
    public let abiMajor: Int
    /// The ABI minor version it was built against.
    public let abiMinor: Int
    /// What it registered, in order.
    public let components: [Component]
}
