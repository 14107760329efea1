import Foundation
import PruneCore
import PruneRuntime

/// Measures many candidate models against one reference model on the same data, running the reference once.
///
/// An ``Evaluator`` with a reference runs both models on every batch; a sweep that measures hundreds of pruned
/// variants of one model would run the dense model hundreds of times. The meter keeps the reference's first output
/// for every batch and compares each candidate with it through the same ``Agreement`` and ``Accuracy`` tallies the
/// evaluator uses, so the numbers are those `prune eval --reference` prints for the same data.
///
/// - Complexity: memory is the reference's first output for all samples (samples × row size floats).
public struct FidelityMeter {
    /// The data every model runs on.
    public let data: EvaluationData
    /// How outputs are read (from the reference's first output).
    public let comparison: OutputComparison
    /// The reference's accuracy against the labels, when the data has labels.
    public let referenceAccuracy: Accuracy?
    private let referenceRows: [OutputRows]
    private let referenceName: String
    private let inputNames: [String]

    /// Runs `reference` over every batch of `data` and keeps its first output.
    ///
    /// - Parameters:
    ///   - name: how messages name the reference.
    ///   - classesPerPosition: whether a `[batch, positions, classes]` output is one class distribution per position.
    /// - Throws: `PruneError` when the data does not fit the reference's inputs, a node fails, or labels are given
    ///   for an output that is not one class distribution per sample.
    public init(
        reference: Interpreter, name: String, data: EvaluationData, classesPerPosition: Bool = false,
        progress: any ProgressSink = SilentProgress()
    ) throws {
        try data.validate(for: reference.graph, modelName: name)
        self.data = data
        referenceName = name
        inputNames = reference.graph.inputNames
        var rows: [OutputRows] = []
        var comparison: OutputComparison?
        var accuracy = data.labelsName.map { Accuracy(labels: $0) }
        for index in 0..<data.batchCount {
            let batch = try data.batch(index, inputNames: inputNames)
            let output = try FidelityMeter.firstOutput(of: reference, named: name, batch: batch)
            let reading = try comparison ?? OutputComparison.of(
                shape: output.shape, output: reference.graph.outputNames[0], classesPerPosition: classesPerPosition,
                samples: batch.sampleCount)
            comparison = reading
            if let labels = batch.labels {
                try FidelityMeter.checkLabels(reading, data: data, output: reference.graph.outputNames[0], rows: output, name: name)
                accuracy?.add(predictions: (0..<output.rowCount).map(output.argmax), labels: labels)
            }
            rows.append(output)
            progress.update(phase: "running the reference", completed: index + 1, total: data.batchCount)
        }
        referenceRows = rows
        self.comparison = comparison ?? .classesPerSample
        referenceAccuracy = accuracy
    }

    /// Runs `model` over the data and compares its first output with the reference's: agreement always, accuracy
    /// when the data has labels.
    ///
    /// - Throws: `PruneError` when the model takes other inputs than the reference, a node fails, or its first
    ///   output's shape differs from the reference's.
    public func measure(_ model: Interpreter, name: String) throws -> (agreement: Agreement, accuracy: Accuracy?) {
        guard Set(model.graph.inputNames) == Set(inputNames) else {
            throw PruneError(
                .invalidInput, "\(name) takes inputs \(model.graph.inputNames) but \(referenceName) takes \(inputNames)")
        }
        var agreement = Agreement(comparison: comparison)
        var accuracy = data.labelsName.map { Accuracy(labels: $0) }
        for index in 0..<data.batchCount {
            let batch = try data.batch(index, inputNames: inputNames)
            let rows = try FidelityMeter.firstOutput(of: model, named: name, batch: batch)
            let reference = referenceRows[index]
            guard rows.shape == reference.shape else {
                throw PruneError(
                    .shapeMismatch,
                    "batch \(index) (\(batch.file.lastPathComponent)): \(name) gives an output of shape "
                        + "\(Format.shape(rows.shape)), \(referenceName) \(Format.shape(reference.shape))")
            }
            agreement.add(
                model: rows.values, reference: reference.values, rowSize: comparison.rowSize(shape: rows.shape),
                samples: batch.sampleCount)
            if let labels = batch.labels {
                accuracy?.add(predictions: (0..<rows.rowCount).map(rows.argmax), labels: labels)
            }
        }
        return (agreement, accuracy)
    }

    private static func firstOutput(of interpreter: Interpreter, named name: String, batch: EvaluationBatch) throws
        -> OutputRows
    {
        let outputs: [String: RuntimeTensor]
        do {
            outputs = try interpreter.run(batch.inputs)
        } catch let error as PruneError {
            throw PruneError(error.kind, "\(name): batch \(batch.file.lastPathComponent): \(error.message)")
        }
        guard let outputName = interpreter.graph.outputNames.first, let tensor = outputs[outputName] else {
            throw PruneError(.invalidOutput, "\(name) has no graph output to evaluate")
        }
        return try OutputRows(tensor, name: outputName, model: name, samples: batch.sampleCount)
    }

    private static func checkLabels(
        _ reading: OutputComparison, data: EvaluationData, output: String, rows: OutputRows, name: String
    ) throws {
        guard reading == .classesPerSample else {
            throw PruneError(
                .invalidInput,
                "labels '\(data.labelsName ?? "")' need one class distribution per sample, but output "
                    + "'\(output)' of \(name) has shape \(Format.shape(rows.shape))")
        }
    }
}
