import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure

/// Builds interpreter graphs from in-memory models and captures single values while a batch runs.
package enum RuntimeModel {
    /// The interpreter graph of `model`: its ONNX graph (possibly edited by a rewriter) with the model's parameters
    /// as initializer data.
    ///
    /// - Throws: `PruneError.Kind.unsupported` when the model carries no ONNX graph, or an initializer has neither a
    ///   parameter nor data of its own.
    package static func graph(of model: Model) throws -> ONNXGraph {
        guard model.graph is ONNXModelGraph else {
            throw PruneError(.unsupported, "'reconstruct' runs the model, so it needs an ONNX model")
        }
        return try ONNXGraph.of(model)
    }

    /// Runs `interpreter` on calibration batch `index` until `value` is computed (or read) and returns it.
    static func capture(
        _ value: String, running interpreter: Interpreter, batch index: Int, of batches: any CalibrationBatches
    ) throws -> RuntimeTensor {
        try capture([value], running: interpreter, batch: index, of: batches)[0]
    }

    /// Runs `interpreter` on calibration batch `index` until every one of `values` is computed (or read) and
    /// returns them in order: one partial run however many values are asked for.
    static func capture(
        _ values: [String], running interpreter: Interpreter, batch index: Int, of batches: any CalibrationBatches
    ) throws -> [RuntimeTensor] {
        let inputs = try batches.batch(index, inputs: interpreter.graph.inputNames)
        var runtimeInputs: [String: RuntimeTensor] = [:]
        for (name, tensor) in inputs { runtimeInputs[name] = try RuntimeTensor(tensor) }
        let observer = ValueCapture(values: values, fed: runtimeInputs)
        if !observer.isComplete {
            do {
                _ = try interpreter.run(runtimeInputs, observer: observer)
            } catch is ValueCapture.Captured {
            } catch let error as PruneError {
                throw PruneError(error.kind, "calibration batch \(index + 1): \(error.message)")
            }
        }
        return try values.map { value in
            guard let captured = observer.captured[value] else {
                throw PruneError(.invalidInput, "'reconstruct': value '\(value)' was not computed by the graph")
            }
            return captured
        }
    }
}

/// Keeps values as soon as a node produces or reads them, then stops the run once all are held (nothing later is
/// needed).
final class ValueCapture: NodeObserver {
    /// Thrown to end the run early once every value is held.
    struct Captured: Error {}

    let values: Set<String>
    private(set) var captured: [String: RuntimeTensor] = [:]

    /// Watches for `values`; those among the graph's `fed` inputs are held from the start.
    init(values: [String], fed: [String: RuntimeTensor] = [:]) {
        self.values = Set(values)
        for value in values { if let tensor = fed[value] { captured[value] = tensor } }
    }

    /// Whether every value is held.
    var isComplete: Bool { captured.count == values.count }

    func wantsToObserve(_ node: NodeInfo) -> Bool {
        node.outputNames.contains { values.contains($0) && captured[$0] == nil }
            || node.inputNames.contains { values.contains($0) && captured[$0] == nil }
    }

    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        for (position, name) in node.outputNames.enumerated() where position < outputs.count {
            if values.contains(name), captured[name] == nil { captured[name] = outputs[position] }
        }
        for (position, name) in node.inputNames.enumerated() where position < inputs.count {
            if values.contains(name), captured[name] == nil, let tensor = inputs[position] { captured[name] = tensor }
        }
        if isComplete { throw Captured() }
    }
}
