/// A component as users write it, `NAME[:key=value,...]` — the same syntax for built-ins and plugins, on the
/// command line and in recipes.
public struct ComponentSpec: Sendable, Hashable, CustomStringConvertible {
    /// The registered name.
    public let name: String
    /// The arguments in the order written (values unparsed; the component's signature types them).
    public let arguments: [(key: String, value: String)]

    /// Creates a spec from parts.
    public init(name: String, arguments: [(key: String, value: String)] = []) {
        self.name = name
        self.arguments = arguments
    }

    /// Parses `NAME[:key=value,...]`.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` for an empty name or an argument without `=`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespace()
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].trimmingWhitespace()
        guard !name.isEmpty, !name.contains(",") else {
            throw PruneError(.invalidParameter, "'\(text)': expected NAME[:key=value,...]")
        }
        var arguments: [(key: String, value: String)] = []
        if parts.count == 2 {
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = pair[0].trimmingWhitespace()
                guard pair.count == 2, !key.isEmpty else {
                    throw PruneError(.invalidParameter, "'\(text)': '\(item)' is not key=value")
                }
                arguments.append((key, pair[1].trimmingWhitespace()))
            }
        }
        self.init(name: name, arguments: arguments)
    }

    /// The text form, which parses back to an equal spec.
    public var description: String {
        arguments.isEmpty ? name : name + ":" + arguments.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Specs are equal when their names and argument lists are.
    public static func == (lhs: ComponentSpec, rhs: ComponentSpec) -> Bool {
        lhs.name == rhs.name && lhs.arguments.elementsEqual(rhs.arguments) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Hashes the name and arguments.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        for (key, value) in arguments {
            hasher.combine(key)
            hasher.combine(value)
        }
    }
}
