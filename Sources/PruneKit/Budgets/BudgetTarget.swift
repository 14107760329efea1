import PruneCore

/// What a budget limits, as a fraction of the dense model's amount kept: `--target macs=0.7`.
public struct BudgetTarget: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The resource a budget limits.
    public enum Resource: String, Sendable, Codable, Hashable, CaseIterable {
        /// Multiply-accumulates of one forward pass at batch 1.
        case macs
        /// Parameters stored (non-zero parameters for weight sparsity).
        case params
        /// Interpreter latency from the curves' `latencySeconds`; without them, MACs with kept widths rounded to a
        /// multiple of 8 (SIMD-friendly channel counts; `round` changes the multiple).
        case latency
        /// Bytes of the written model file: solved over parameters, checked against the file written.
        case size
    }

    /// The resource.
    public var resource: Resource
    /// The fraction of the dense model's amount to keep at most, in (0, 1].
    public var keep: Double

    /// Creates a target.
    public init(resource: Resource, keep: Double) {
        self.resource = resource
        self.keep = keep
    }

    /// Parses `RESOURCE=FRACTION`, for example `macs=0.7`.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` naming the resources, or the accepted range of the fraction.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
        let names = Resource.allCases.map(\.rawValue).joined(separator: ", ")
        guard parts.count == 2, let resource = Resource(rawValue: parts[0]) else {
            throw PruneError(.invalidParameter, "budget '\(text)': expected RESOURCE=FRACTION with RESOURCE one of \(names)")
        }
        guard let keep = Double(parts[1]), keep > 0, keep <= 1 else {
            throw PruneError(
                .invalidParameter, "budget '\(text)': the fraction kept must be a number in (0, 1], e.g. macs=0.7")
        }
        self.init(resource: resource, keep: keep)
    }

    /// `RESOURCE=FRACTION`.
    public var description: String { "\(resource.rawValue)=\(keep)" }
}
