import Foundation
import PruneCore
import PruneRuntime

/// Runs calibration batches through a model's graph and gathers the statistics scorers ask for.
public enum Calibration {
    /// Runs every batch of `data` once through `graph` (with `model`'s current weights) and accumulates `kinds`.
    ///
    /// Activations are never stored: each batch's values are freed as the interpreter goes, and only per-feature
    /// and per-unit sums remain. When the graph has an input named `attention_mask` (a Hugging Face export), the
    /// positions it marks 0 — padding — are left out of the sums of every `[b, s, features]` value.
    ///
    /// - Parameters:
    ///   - model: when given, its parameters replace the graph's initializers of the same name (so a pruned
    ///     model can be re-calibrated without re-reading the file).
    ///   - progress: receives one step per batch.
    /// - Throws: `PruneError` naming the batch file or the node that failed.
    public static func collect(
        graph: ONNXGraph, model: Model? = nil, data: CalibrationData, kinds: StatisticKinds, threads: Int,
        progress: any ProgressSink = SilentProgress()
    ) throws -> CalibrationStatistics {
        let interpreter = try Interpreter(graph: graph, options: .init(threads: threads))
        if let model { try interpreter.replaceInitializers(from: model) }
        let collector = try StatisticsCollector(graph: graph, kinds: kinds, threads: threads)
        for (index, file) in data.files.enumerated() {
            progress.update(phase: "calibrating", completed: index, total: data.files.count)
            let batch = try CalibrationData.batch(in: file, inputs: graph.inputNames)
            for piece in pieces(of: batch, for: graph) {
                collector.realPositions = graph.inputNames.contains(PaddingMask.inputName)
                    ? piece[PaddingMask.inputName].map { ($0.shape, $0.boolValues()) } : nil
                do {
                    _ = try interpreter.run(piece, observer: collector)
                } catch let error as PruneError {
                    throw PruneError(error.kind, "calibration batch \(file.lastPathComponent): \(error.message)")
                }
                collector.finishBatch()
            }
        }
        progress.update(phase: "calibrating", completed: data.files.count, total: data.files.count)
        return collector.statistics
    }

    /// `batch` cut into pieces of the graph's fixed batch size (``ONNXGraph/fixedBatchSize``) along dimension 0 of
    /// the inputs that carry the samples (those whose dimension 0 equals the first input's); the batch itself for a
    /// graph without a fixed batch, or when the samples do not divide into such pieces (the interpreter then
    /// reports the mismatch).
    static func pieces(of batch: [String: RuntimeTensor], for graph: ONNXGraph) -> [[String: RuntimeTensor]] {
        guard let size = graph.fixedBatchSize, let first = graph.inputNames.first,
            let samples = batch[first]?.shape.first, samples > size, samples % size == 0
        else { return [batch] }
        return stride(from: 0, to: samples, by: size).map { start in
            batch.mapValues { $0.shape.first == samples ? $0.samples(start..<(start + size)) : $0 }
        }
    }
}
