import Foundation
import PruneKit

/// Measures what calibration statistics add to a plain forward pass of the interpreter.
///
/// Usage: `calibration-bench MODEL.onnx CALIB(.safetensors|dir) [repeats=5] [threads]`. Runs every batch
/// `repeats` times without an observer and with a `StatisticsCollector` for every kind, alternating, and prints
/// the best time of each and the overhead.
@main
struct CalibrationBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3 else {
            FileHandle.standardError.write(Data("usage: calibration-bench MODEL.onnx CALIB [repeats] [threads]\n".utf8))
            exit(2)
        }
        let repeats = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5
        let threads = arguments.count > 4 ? Int(arguments[4]) ?? ParallelFor.defaultThreads : ParallelFor.defaultThreads
        let graph = try ONNXGraph(contentsOf: URL(fileURLWithPath: arguments[1]))
        let data = try CalibrationData(url: URL(fileURLWithPath: arguments[2]))
        let batches = try data.files.map { try CalibrationData.batch(in: $0, inputs: graph.inputNames) }
        let interpreter = try Interpreter(graph: graph, options: .init(threads: threads))
        let clock = ContinuousClock()
        var plain = Duration.seconds(1_000_000)
        var observed = Duration.seconds(1_000_000)
        var weights = 0
        _ = try interpreter.run(batches[0])  // warm up
        for _ in 0..<repeats {
            let start = clock.now
            for batch in batches { _ = try interpreter.run(batch) }
            plain = min(plain, clock.now - start)
            let collector = try StatisticsCollector(graph: graph, kinds: .all)
            weights = collector.weights.count
            let observedStart = clock.now
            for batch in batches {
                _ = try interpreter.run(batch, observer: collector)
                collector.finishBatch()
            }
            observed = min(observed, clock.now - observedStart)
        }
        let p = Double(plain.components.seconds) + Double(plain.components.attoseconds) * 1e-18
        let o = Double(observed.components.seconds) + Double(observed.components.attoseconds) * 1e-18
        print(
            String(
                format: "%@: %d batches, %d weights, %d threads: plain %.1f ms, with statistics %.1f ms, overhead %.1f %%",
                arguments[1], batches.count, weights, threads, p * 1000, o * 1000, (o / p - 1) * 100))
    }
}
