/// The typed parameters a component accepts, declared once and checked against what users write.
///
/// The text form is a comma-separated list of `name:type[range][=default]`, for example
/// `sparsity:f64[0..1)`, `p:f64[1..inf]=2`, `k:i64[1..]=8`, `mode:str{mean|max}=mean`, `seed:i64=0`.
/// Types are `f64`, `i64`, `str` and `bool`. A range (numbers only) is `[lo..hi]` with `(`/`)` for open ends
/// and either bound left out for "unbounded"; `{a|b}` lists the strings a `str` parameter accepts. A parameter
/// with no default is required. Built-ins and plugins declare their parameters in exactly this form.
public struct ParameterSignature: Sendable, Hashable, CustomStringConvertible {
    /// The declared parameters, in declaration order.
    public let parameters: [ParameterSpec]

    /// A signature with no parameters.
    public static let none = ParameterSignature(parameters: [])

    /// Creates a signature from parsed specs.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when two specs share a name or a default breaks its own rule.
    public init(_ parameters: [ParameterSpec]) throws {
        var seen = Set<String>()
        for spec in parameters {
            guard seen.insert(spec.name).inserted else {
                throw PruneError(.invalidParameter, "parameter '\(spec.name)' is declared twice")
            }
            if let value = spec.defaultValue { try spec.check(value, component: "declaration") }
        }
        self.parameters = parameters
    }

    private init(parameters: [ParameterSpec]) { self.parameters = parameters }

    /// Parses the text form.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` saying which entry is malformed.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty {
            self.init(parameters: [])
            return
        }
        try self.init(try ParameterSignature.splitEntries(trimmed).map(ParameterSpec.init(parsing:)))
    }

    /// The text form, which parses back to an equal signature.
    public var description: String { parameters.map(\.description).joined(separator: ",") }

    /// The spec named `name`.
    public subscript(name: String) -> ParameterSpec? { parameters.first { $0.name == name } }

    /// Checks `arguments` against the declaration and fills in defaults.
    ///
    /// - Parameter component: the component's name, used in error messages.
    /// - Throws: `PruneError.Kind.invalidParameter` naming the component and parameter for an unknown key, a
    ///   value of the wrong type or out of range, or a missing required parameter.
    public func bind(_ arguments: [(key: String, value: String)], component: String) throws -> ParameterValues {
        var values: [String: ParameterValue] = [:]
        for (key, text) in arguments {
            guard let spec = self[key] else {
                let known = parameters.isEmpty ? "it takes no parameters" : "it takes \(parameterList)"
                throw PruneError(.invalidParameter, "'\(component)' has no parameter '\(key)'; \(known)")
            }
            guard values[key] == nil else {
                throw PruneError(.invalidParameter, "'\(component)': parameter '\(key)' is given twice")
            }
            let value = try spec.parse(text, component: component)
            try spec.check(value, component: component)
            values[key] = value
        }
        for spec in parameters where values[spec.name] == nil {
            guard let value = spec.defaultValue else {
                throw PruneError(
                    .invalidParameter,
                    "'\(component)' needs parameter '\(spec.name)' (\(spec.description)), e.g. \(component):\(spec.name)=…"
                )
            }
            values[spec.name] = value
        }
        return ParameterValues(values, signature: self)
    }

    private var parameterList: String { parameters.map(\.description).joined(separator: ", ") }

    /// Splits on commas that are not inside a range or a choice list.
    private static func splitEntries(_ text: String) -> [String] {
        var entries: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[", "(", "{": depth += 1
            case "]", ")", "}": depth -= 1
            case "," where depth == 0:
                entries.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        entries.append(current)
        return entries
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space.
    package func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
