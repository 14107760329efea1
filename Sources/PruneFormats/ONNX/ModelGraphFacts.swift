import Foundation
import PruneCore

/// Facts derived once from a model's graph and parameters, kept with the graph so every later reader of the same
/// model reuses them (the stage's targets and its rewriter share one structure analysis).
///
/// An entry is valid for the parameters it was derived from: their names, dtypes and shapes, and the values of
/// small tensors (shape constants and Resize scales are read as values). A model whose parameters differ there
/// derives the fact again; a changed graph gets an empty store (``ONNXModelGraph`` replaces it on every edit).
/// Thread-safe.
package final class ModelGraphFacts: @unchecked Sendable {
    private struct Entry {
        var parameters: [ParameterFingerprint]
        var value: any Sendable
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var derivations: [String: Int] = [:]

    package init() {}

    /// The fact stored under `key` for `model`'s parameters, derived with `make` (outside the lock) when absent or
    /// derived from other parameters.
    package func value<Value: Sendable>(_ key: String, for model: Model, make: () throws -> Value) rethrows -> Value {
        let fingerprint = model.parameters.map(ParameterFingerprint.init)
        lock.lock()
        let cached = entries[key]
        lock.unlock()
        if let cached, cached.parameters == fingerprint, let value = cached.value as? Value { return value }
        let value = try make()
        lock.lock()
        entries[key] = Entry(parameters: fingerprint, value: value)
        derivations[key, default: 0] += 1
        lock.unlock()
        return value
    }

    /// How many times the fact under `key` was derived for this graph (for tests).
    package func derivationCount(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return derivations[key] ?? 0
    }
}

/// What of one parameter a graph fact may depend on.
private struct ParameterFingerprint: Equatable {
    /// Tensors up to this many elements are compared by value too.
    static let valueLimit = 64

    var name: String
    var dtype: DType
    var shape: [Int]
    var bytes: [UInt8]

    init(_ parameter: Parameter) {
        name = parameter.name
        dtype = parameter.tensor.dtype
        shape = parameter.tensor.shape
        var bytes: [UInt8] = []
        if parameter.tensor.elementCount <= Self.valueLimit {
            parameter.tensor.forEachByteChunk { bytes.append(contentsOf: $0) }
        }
        self.bytes = bytes
    }
}
