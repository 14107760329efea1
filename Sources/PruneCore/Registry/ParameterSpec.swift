import Foundation

/// The value types a component parameter can have.
public enum ParameterType: String, Sendable, Hashable, CaseIterable {
    /// A double-precision number (`inf` and `-inf` allowed).
    case f64
    /// A 64-bit signed integer.
    case i64
    /// A string.
    case str
    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    case bool
}

/// A parameter value after parsing and checking.
public enum ParameterValue: Sendable, Hashable, CustomStringConvertible {
    /// A number.
    case f64(Double)
    /// An integer.
    case i64(Int64)
    /// A string.
    case str(String)
    /// A flag.
    case bool(Bool)

    /// The value as written in a component spec.
    public var description: String {
        switch self {
        case .f64(let v):
            if v == .infinity { return "inf" }
            if v == -.infinity { return "-inf" }
            if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
            return String(v)
        case .i64(let v): return String(v)
        case .str(let v): return v
        case .bool(let v): return v ? "true" : "false"
        }
    }
}

/// One declared parameter: name, type, optional range or choices, optional default.
public struct ParameterSpec: Sendable, Hashable, CustomStringConvertible {
    /// A numeric interval; either end may be open or missing.
    public struct Range: Sendable, Hashable, CustomStringConvertible {
        /// The lower bound, if any.
        public var lower: Double?
        /// Whether the lower bound itself is allowed.
        public var lowerInclusive: Bool
        /// The upper bound, if any.
        public var upper: Double?
        /// Whether the upper bound itself is allowed.
        public var upperInclusive: Bool

        /// Creates a range.
        public init(lower: Double?, lowerInclusive: Bool = true, upper: Double?, upperInclusive: Bool = true) {
            self.lower = lower
            self.lowerInclusive = lowerInclusive
            self.upper = upper
            self.upperInclusive = upperInclusive
        }

        /// Whether `value` lies in the range.
        public func contains(_ value: Double) -> Bool {
            if let lower, lowerInclusive ? value < lower : value <= lower { return false }
            if let upper, upperInclusive ? value > upper : value >= upper { return false }
            return true
        }

        /// The text form, e.g. `[0..1)`.
        public var description: String {
            func text(_ v: Double?) -> String { v.map { ParameterValue.f64($0).description } ?? "" }
            return "\(lowerInclusive ? "[" : "(")\(text(lower))..\(text(upper))\(upperInclusive ? "]" : ")")"
        }
    }

    /// The name users write before `=`.
    public let name: String
    /// The value type.
    public let type: ParameterType
    /// The allowed interval for numbers, if restricted.
    public let range: Range?
    /// The allowed strings for `str`, if restricted.
    public let choices: [String]?
    /// The value used when the user gives none; nil makes the parameter required.
    public let defaultValue: ParameterValue?

    /// Creates a spec.
    public init(
        name: String, type: ParameterType, range: Range? = nil, choices: [String]? = nil,
        defaultValue: ParameterValue? = nil
    ) {
        self.name = name
        self.type = type
        self.range = range
        self.choices = choices
        self.defaultValue = defaultValue
    }

    /// Parses `name:type[range][=default]`.
    public init(parsing entry: String) throws {
        let text = entry.trimmingWhitespace()
        func fail(_ why: String) -> PruneError {
            PruneError(.invalidParameter, "parameter declaration '\(text)': \(why)")
        }
        guard let colon = text.firstIndex(of: ":") else { throw fail("expected name:type") }
        let name = String(text[..<colon]).trimmingWhitespace()
        guard ParameterSpec.isIdentifier(name) else { throw fail("'\(name)' is not a valid name") }
        var rest = Substring(text[text.index(after: colon)...])
        var defaultText: String?
        if let equals = rest.firstIndex(of: "=") {
            defaultText = String(rest[rest.index(after: equals)...])
            rest = rest[..<equals]
        }
        let typeEnd = rest.firstIndex { "[({".contains($0) } ?? rest.endIndex
        guard let type = ParameterType(rawValue: rest[..<typeEnd].trimmingWhitespace()) else {
            throw fail("unknown type '\(rest[..<typeEnd])'; use f64, i64, str or bool")
        }
        let constraint = rest[typeEnd...].trimmingWhitespace()
        var range: Range?
        var choices: [String]?
        if constraint.hasPrefix("{") {
            guard type == .str, constraint.hasSuffix("}") else { throw fail("choices {a|b} are for str parameters") }
            choices = constraint.dropFirst().dropLast().split(separator: "|").map { $0.trimmingWhitespace() }
        } else if !constraint.isEmpty {
            guard type == .f64 || type == .i64 else { throw fail("ranges are for f64 and i64 parameters") }
            range = try ParameterSpec.parseRange(constraint) ?? { throw fail("malformed range '\(constraint)'") }()
        }
        self.init(name: name, type: type, range: range, choices: choices)
        if let defaultText {
            let value = try parse(defaultText, component: "declaration of '\(name)'")
            self = ParameterSpec(name: name, type: type, range: range, choices: choices, defaultValue: value)
        }
    }

    /// The text form.
    public var description: String {
        var text = "\(name):\(type.rawValue)"
        if let range { text += range.description }
        if let choices { text += "{\(choices.joined(separator: "|"))}" }
        if let defaultValue { text += "=\(defaultValue)" }
        return text
    }

    /// Parses a user's text as this parameter's type.
    public func parse(_ text: String, component: String) throws -> ParameterValue {
        let value = text.trimmingWhitespace()
        func fail() -> PruneError {
            PruneError(.invalidParameter, "'\(component)': parameter '\(name)' must be \(typeName), not '\(value)'")
        }
        switch type {
        case .f64:
            guard let number = Double(value), !number.isNaN else { throw fail() }
            return .f64(number)
        case .i64:
            guard let number = Int64(value) else { throw fail() }
            return .i64(number)
        case .str:
            return .str(value)
        case .bool:
            switch value.lowercased() {
            case "true", "1", "yes": return .bool(true)
            case "false", "0", "no": return .bool(false)
            default: throw fail()
            }
        }
    }

    /// Checks a parsed value against the range or choices.
    public func check(_ value: ParameterValue, component: String) throws {
        switch value {
        case .f64(let number):
            if let range, !range.contains(number) { throw outOfRange(value, component: component) }
        case .i64(let number):
            if let range, !range.contains(Double(number)) { throw outOfRange(value, component: component) }
        case .str(let string):
            if let choices, !choices.contains(string) {
                throw PruneError(
                    .invalidParameter,
                    "'\(component)': parameter '\(name)' must be one of \(choices.joined(separator: ", ")), not '\(string)'"
                )
            }
        case .bool: break
        }
    }

    private func outOfRange(_ value: ParameterValue, component: String) -> PruneError {
        PruneError(
            .invalidParameter, "'\(component)': parameter '\(name)' = \(value) is outside \(range!.description)")
    }

    private var typeName: String {
        switch type {
        case .f64: "a number"
        case .i64: "an integer"
        case .str: "a string"
        case .bool: "true or false"
        }
    }

    private static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    private static func parseRange(_ text: String) -> Range? {
        guard let open = text.first, let close = text.last, "[(".contains(open), "])".contains(close),
            text.count >= 4
        else { return nil }
        let body = text.dropFirst().dropLast()
        let parts = body.components(separatedBy: "..")
        guard parts.count == 2 else { return nil }
        func bound(_ s: String) -> (ok: Bool, value: Double?) {
            let t = s.trimmingWhitespace()
            if t.isEmpty { return (true, nil) }
            guard let v = Double(t), !v.isNaN else { return (false, nil) }
            return (true, v.isInfinite ? nil : v)
        }
        let lower = bound(parts[0])
        let upper = bound(parts[1])
        guard lower.ok, upper.ok else { return nil }
        return Range(lower: lower.value, lowerInclusive: open == "[", upper: upper.value, upperInclusive: close == "]")
    }
}
