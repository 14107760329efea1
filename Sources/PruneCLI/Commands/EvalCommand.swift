import ArgumentParser
import Foundation
import PruneKit

/// `prune eval`: run a model over data and report accuracy, agreement with a reference and latency.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a model on data: accuracy, agreement with a reference, latency.",
        discussion: """
            The data is a .safetensors file whose tensor names match the model's
            inputs (dimension 0 counts samples, split into batches of --batch;
            inputs whose dimension 0 differs, such as recurrent states, are fed
            whole), or a directory of such files (each file one batch). Metrics
            use the first output: argmax against --labels (one class distribution
            per sample, [batch, classes]), and agreement with --reference: top-1
            only where each row is a class distribution, per position for a
            [batch, positions, ...] output, otherwise cosine and max differences.
            The JSON schema is in Docs/Eval.md.
            """)

    @Argument(help: "The ONNX model to evaluate.")
    var model: String

    @Option(help: "A .safetensors file, or a directory of them, whose tensors are named like the model's inputs.")
    var data: String

    @Option(help: "The tensor in the data holding one integer label per sample.")
    var labels: String?

    @Option(help: "An ONNX model to compare outputs with (e.g. the dense model before pruning).")
    var reference: String?

    @Option(help: "Samples per batch when the data is one file (default: the model's fixed batch dimension, else 64).")
    var batch: Int?

    @Option(help: "Batches run once before timing starts, uncounted (every batch is still timed).")
    var warmup = 2

    @Option(help: "Threads for the interpreter's kernels and BLAS (default: all cores).")
    var threads: Int?

    @Flag(help: "The first output is [batch, positions, classes]: compare top-1 per position.")
    var classesPerPosition = false

    @Flag(help: "Print the results as JSON on stdout instead of tables.")
    var json = false

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let options = Interpreter.Options(threads: threadCount)
        let graph = try ONNXGraph(contentsOf: URL(fileURLWithPath: model))
        let referenceGraph = try reference.map { try ONNXGraph(contentsOf: URL(fileURLWithPath: $0)) }
        let evaluator = Evaluator(
            model: try Interpreter(graph: graph, options: options), name: model,
            reference: try referenceGraph.map { try Interpreter(graph: $0, options: options) },
            referenceName: reference ?? "reference", warmupBatches: warmup, classesPerPosition: classesPerPosition)
        let batchSize = EvaluationData.batchSize(requested: batch, for: graph)
        let dataset = try EvaluationData(
            url: URL(fileURLWithPath: data), batchSize: batchSize, labels: labels, inputNames: graph.inputNames)
        let progress = TerminalProgress()
        let result = try evaluator.evaluate(dataset, progress: progress)
        let report = EvalReport(
            tool: "prunekit \(pruneKitVersion)", model: model, reference: reference, data: data,
            batchSize: dataset.layout == .filePerBatch ? nil : batchSize, threads: threadCount, result: result)
        print(json ? try report.json() : report.text())
    }
}
