import Foundation
import PruneCore

/// A plugin file to load: from `--plugin`, a `PRUNE_PLUGIN_PATH` directory, or a recipe's `plugins:` entry.
public struct PluginReference: Sendable, Hashable {
    /// The path as written; relative paths are taken from `baseDirectory`.
    public var path: String
    /// The lowercase hex SHA-256 the file must have, when pinned (recipes may pin).
    public var sha256: String?
    /// The directory relative paths start from (a recipe's own directory); nil means the working directory.
    public var baseDirectory: URL?

    /// Creates a reference.
    public init(path: String, sha256: String? = nil, relativeTo baseDirectory: URL? = nil) {
        self.path = path
        self.sha256 = sha256?.lowercased()
        self.baseDirectory = baseDirectory
    }
}

/// Where the run's calibration statistics come from for plugins that declared them: `(parameter, statistic,
/// context) → tensor`, nil when the run has none.
public typealias PluginStatisticsProvider =
    @Sendable (_ parameter: String, _ statistic: String, _ context: PruneContext)
    -> Tensor?

/// How plugins are loaded.
public struct PluginLoadOptions: Sendable {
    /// Load files (and use directories) that group or others can write.
    public var allowInsecure: Bool
    /// Calibration statistics for components that declare them; nil answers "not found".
    public var statistics: PluginStatisticsProvider?

    /// Creates options; by default insecure files are refused and no statistics are available.
    public init(allowInsecure: Bool = false, statistics: PluginStatisticsProvider? = nil) {
        self.allowInsecure = allowInsecure
        self.statistics = statistics
    }
}
