/// Checked parameter values for one component, with defaults filled in.
///
/// Lookups by a name the signature does not declare, or with the wrong type, are programming errors in the
/// component and trap; user errors were already reported by ``ParameterSignature/bind(_:component:)``.
public struct ParameterValues: Sendable, Hashable {
    /// Every parameter's value, by name.
    public let values: [String: ParameterValue]
    /// The signature the values were checked against.
    public let signature: ParameterSignature

    /// Wraps already-checked values.
    public init(_ values: [String: ParameterValue], signature: ParameterSignature) {
        self.values = values
        self.signature = signature
    }

    /// The number parameter `name` (an `i64` value converts).
    public func double(_ name: String) -> Double {
        switch values[name] {
        case .f64(let v): v
        case .i64(let v): Double(v)
        default: preconditionFailure("parameter '\(name)' is not a declared number")
        }
    }

    /// The integer parameter `name`.
    public func int(_ name: String) -> Int {
        guard case .i64(let v) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared i64") }
        return Int(v)
    }

    /// The string parameter `name`.
    public func string(_ name: String) -> String {
        guard case .str(let v) = values[name] else { preconditionFailure("parameter '\(name)' is not a declared str") }
        return v
    }

    /// The flag `name`.
    public func bool(_ name: String) -> Bool {
        guard case .bool(let v) = values[name] else {
            preconditionFailure("parameter '\(name)' is not a declared bool")
        }
        return v
    }

    /// The values in declaration order as `key=value` text (for reports and metadata).
    public var canonicalText: String {
        signature.parameters.compactMap { spec in values[spec.name].map { "\(spec.name)=\($0)" } }
            .joined(separator: ",")
    }
}
