/// The outcome of ``PluginConformance/check(_:options:baseRegistry:logger:)``: one line per check.
public struct ConformanceReport: Sendable {
    /// One check and how it went.
    public struct Check: Sendable, Hashable {
        /// How a check ended.
        public enum Outcome: String, Sendable, Hashable {
            /// The plugin met the requirement.
            case passed
            /// The plugin broke the requirement.
            case failed
        }

        /// What was checked, e.g. `scorer fpgm: unit target conv`.
        public let name: String
        /// How it went.
        public let outcome: Outcome
        /// What was seen, or the error.
        public let detail: String
    }

    /// The file checked (absolute when it could be resolved).
    public let path: String
    /// The plugin, when it loaded.
    public let plugin: LoadedPlugin?
    /// The checks, in the order they ran.
    public let checks: [Check]

    /// Whether every check passed.
    public var passed: Bool { checks.allSatisfy { $0.outcome == .passed } }
    /// The number of failed checks.
    public var failureCount: Int { checks.filter { $0.outcome == .failed }.count }
}
