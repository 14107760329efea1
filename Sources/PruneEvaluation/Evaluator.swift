import Foundation
import PruneCore
import PruneRuntime

/// Runs a model, and optionally a reference model, over evaluation data and measures accuracy, agreement with
/// the reference and latency.
///
/// Metrics use each model's first graph output (dimension 0 counts samples), read as its shape says
/// (``OutputComparison``): accuracy compares each sample's argmax with its integer label and needs one class
/// distribution per sample; agreement compares the model's rows (samples, or positions of a rank-3 output) with
/// the reference's, with top-1 only where a row is a class distribution. Latency is the wall time of each
/// `Interpreter.run` call.
///
/// ```swift
/// let graph = try ONNXGraph(contentsOf: modelURL)
/// let data = try EvaluationData(url: dataURL, batchSize: 64, labels: "labels", inputNames: graph.inputNames)
/// let evaluator = Evaluator(model: try Interpreter(graph: graph), name: modelURL.lastPathComponent)
/// let result = try evaluator.evaluate(data)
/// print(result.accuracy?.value ?? 0)
/// ```
public struct Evaluator {
    /// The model evaluated.
    public var model: Interpreter
    /// How messages name the model.
    public var name: String
    /// The model compared against, if any.
    public var reference: Interpreter?
    /// How messages name the reference.
    public var referenceName: String
    /// Batches run once before timing starts (their results are not counted either), to warm caches and threads.
    public var warmupBatches: Int
    /// Whether a `[batch, positions, classes]` first output holds one class distribution per position (then top-1
    /// agreement is counted per position).
    public var classesPerPosition: Bool

    /// Creates an evaluator for `model`, optionally compared with `reference`.
    public init(
        model: Interpreter, name: String, reference: Interpreter? = nil, referenceName: String = "reference",
        warmupBatches: Int = 0, classesPerPosition: Bool = false
    ) {
        self.model = model
        self.name = name
        self.reference = reference
        self.referenceName = referenceName
        self.warmupBatches = max(0, warmupBatches)
        self.classesPerPosition = classesPerPosition
    }

    /// Checks that `data` feeds both models (``EvaluationData/validate(for:modelName:)``) and that the
    /// reference takes the same inputs.
    ///
    /// - Throws: `PruneError` naming the file, tensor and graph input that do not fit.
    public func validate(_ data: EvaluationData) throws {
        try data.validate(for: model.graph, modelName: name)
        guard let reference else { return }
        guard Set(reference.graph.inputNames) == Set(model.graph.inputNames) else {
            throw PruneError(
                .invalidInput,
                "\(referenceName) takes inputs \(reference.graph.inputNames) but \(name) takes \(model.graph.inputNames)"
            )
        }
        try data.validate(for: reference.graph, modelName: referenceName)
    }

    /// Runs `interpreter` on `batch`; a failure names the model file and the batch before the node.
    private func run(_ interpreter: Interpreter, named modelName: String, _ batch: EvaluationBatch) throws
        -> [String: RuntimeTensor]
    {
        do {
            return try interpreter.run(batch.inputs)
        } catch let error as PruneError {
            throw PruneError(error.kind, "\(modelName): batch \(batch.file.lastPathComponent): \(error.message)")
        }
    }

    /// Validates `data`, then runs every batch through the model (and the reference) and returns the metrics.
    ///
    /// - Parameter progress: told `evaluating k/n` after each batch.
    /// - Throws: `PruneError` from validation, from a node that fails, when the first outputs of the two models
    ///   differ in shape, or when labels are given for an output that is not one class distribution per sample.
    /// - Complexity: one pass over the data per model; memory is one batch's activations plus the outputs.
    public func evaluate(_ data: EvaluationData, progress: any ProgressSink = SilentProgress()) throws
        -> EvaluationResult
    {
        try validate(data)
        let inputNames = model.graph.inputNames
        let clock = ContinuousClock()
        for index in 0..<min(warmupBatches, data.batchCount) {
            let batch = try data.batch(index, inputNames: inputNames)
            _ = try run(model, named: name, batch)
            if let reference { _ = try run(reference, named: referenceName, batch) }
        }
        var accuracy = data.labelsName.map { Accuracy(labels: $0) }
        var referenceAccuracy = reference == nil ? nil : accuracy
        var comparison: OutputComparison?
        var agreement: Agreement?
        var modelSeconds: [Double] = []
        var referenceSeconds: [Double] = []
        defer { progress.finish() }
        for index in 0..<data.batchCount {
            let batch = try data.batch(index, inputNames: inputNames)
            let started = clock.now
            let outputs = try run(model, named: name, batch)
            modelSeconds.append((clock.now - started).seconds)
            let rows = try firstOutput(outputs, of: model, named: name, samples: batch.sampleCount)
            let reading = try comparison ?? OutputComparison.of(
                shape: rows.shape, output: model.graph.outputNames[0], classesPerPosition: classesPerPosition,
                samples: batch.sampleCount)
            comparison = reading
            if let labels = batch.labels {
                guard reading == .classesPerSample else {
                    throw PruneError(
                        .invalidInput,
                        "labels '\(data.labelsName ?? "")' need one class distribution per sample, but output "
                            + "'\(model.graph.outputNames[0])' of \(name) has shape \(Format.shape(rows.shape))")
                }
                accuracy?.add(predictions: (0..<rows.rowCount).map(rows.argmax), labels: labels)
            }
            if let reference {
                let referenceStarted = clock.now
                let referenceOutputs = try run(reference, named: referenceName, batch)
                referenceSeconds.append((clock.now - referenceStarted).seconds)
                let referenceRows = try firstOutput(
                    referenceOutputs, of: reference, named: referenceName, samples: batch.sampleCount)
                guard referenceRows.shape == rows.shape else {
                    throw PruneError(
                        .shapeMismatch,
                        "batch \(index) (\(batch.file.lastPathComponent)): \(name) gives an output of shape "
                            + "\(Format.shape(rows.shape)), \(referenceName) \(Format.shape(referenceRows.shape))")
                }
                var tally = agreement ?? Agreement(comparison: reading)
                tally.add(
                    model: rows.values, reference: referenceRows.values, rowSize: reading.rowSize(shape: rows.shape),
                    samples: batch.sampleCount)
                agreement = tally
                if let labels = batch.labels {
                    referenceAccuracy?.add(
                        predictions: (0..<referenceRows.rowCount).map(referenceRows.argmax), labels: labels)
                }
            }
            progress.update(phase: "evaluating batches", completed: index + 1, total: data.batchCount)
        }
        return EvaluationResult(
            samples: data.sampleCount, batches: data.batchCount, accuracy: accuracy,
            referenceAccuracy: reference == nil ? nil : referenceAccuracy,
            agreement: reference == nil ? nil : agreement ?? Agreement(comparison: comparison ?? .classesPerSample),
            latency: Latency(seconds: modelSeconds, samples: data.sampleCount),
            referenceLatency: reference == nil ? nil : Latency(seconds: referenceSeconds, samples: data.sampleCount))
    }

    private func firstOutput(
        _ outputs: [String: RuntimeTensor], of interpreter: Interpreter, named: String, samples: Int
    ) throws -> OutputRows {
        guard let outputName = interpreter.graph.outputNames.first, let tensor = outputs[outputName] else {
            throw PruneError(.invalidOutput, "\(named) has no graph output to evaluate")
        }
        return try OutputRows(tensor, name: outputName, model: named, samples: samples)
    }
}

/// What an evaluation measured.
public struct EvaluationResult: Codable, Sendable, Hashable {
    /// Samples evaluated.
    public var samples: Int
    /// Batches run.
    public var batches: Int
    /// The model's accuracy, when labels were given.
    public var accuracy: Accuracy?
    /// The reference's accuracy, when labels and a reference were given.
    public var referenceAccuracy: Accuracy?
    /// How closely the model follows the reference, when one was given.
    public var agreement: Agreement?
    /// The model's batch latency.
    public var latency: Latency
    /// The reference's batch latency, when one was given.
    public var referenceLatency: Latency?

    /// Creates a result.
    public init(
        samples: Int, batches: Int, accuracy: Accuracy?, referenceAccuracy: Accuracy?, agreement: Agreement?,
        latency: Latency, referenceLatency: Latency?
    ) {
        self.samples = samples
        self.batches = batches
        self.accuracy = accuracy
        self.referenceAccuracy = referenceAccuracy
        self.agreement = agreement
        self.latency = latency
        self.referenceLatency = referenceLatency
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
