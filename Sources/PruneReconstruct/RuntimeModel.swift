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
        let inputs = try batches.batch(index, inputs: interpreter.graph.inputNames)
        var runtimeInputs: [String: RuntimeTensor] = [:]
        for (name, tensor) in inputs { runtimeInputs[name] = try RuntimeTensor(tensor) }
        if let fed = runtimeInputs[value] { return fed }
        let observer = ValueCapture(value: value)
        do {
            _ = try interpreter.run(runtimeInputs, observer: observer)
        } catch is ValueCapture.Captured {
        } catch let error as PruneError {
            throw PruneError(error.kind, "calibration batch \(index + 1): \(error.message)")
        }
        guard let captured = observer.captured else {
            throw PruneError(.invalidInput, "'reconstruct': value '\(value)' was not computed by the graph")
        }
        return captured
    }
}

/// Keeps one value as soon as a node produces or reads it, then stops the run (nothing later is needed).
final class ValueCapture: NodeObserver {
    /// Thrown to end the run early once the value is held.
    struct Captured: Error {}

    let value: String
    private(set) var captured: RuntimeTensor?

    init(value: String) { self.value = value }

    func wantsToObserve(_ node: NodeInfo) -> Bool {
        node.outputNames.contains(value) || node.inputNames.contains(value)
    }

    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        if let position = node.outputNames.firstIndex(of: value), position < outputs.count {
            captured = outputs[position]
        } else if let position = node.inputNames.firstIndex(of: value), let tensor = inputs[position] {
            captured = tensor
        }
        if captured != nil { throw Captured() }
    }
}
