import Foundation
import PruneKit

/// Measures what calibration statistics add to a plain forward pass of the interpreter.
///
/// Usage: `calibration-bench MODEL.onnx CALIB(.safetensors|dir) [repeats=5] [threads]`. Runs every batch
/// `repeats` times without an observer and with a `StatisticsCollector` for every kind, alternating, and prints
/// the best time of each, the overhead of the best times and the median overhead of the paired repeats (each
/// observed run against the plain run just before it, which tempers load from other processes), and the best
/// time spent inside the collector's `observe` per pass (the statistics' own cost, the least noisy number).
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
        var ratios: [Double] = []
        var inside = Duration.seconds(1_000_000)
        _ = try interpreter.run(batches[0])  // warm up
        for _ in 0..<repeats {
            let start = clock.now
            for batch in batches { _ = try interpreter.run(batch) }
            let plainRun = clock.now - start
            plain = min(plain, plainRun)
            let collector = try StatisticsCollector(graph: graph, kinds: .all, threads: threads)
            let timed = TimedObserver(collector)
            weights = collector.weights.count
            let observedStart = clock.now
            for batch in batches {
                _ = try interpreter.run(batch, observer: timed)
                collector.finishBatch()
            }
            inside = min(inside, timed.elapsed)
            let observedRun = clock.now - observedStart
            observed = min(observed, observedRun)
            ratios.append(seconds(observedRun) / seconds(plainRun))
        }
        ratios.sort()
        let median = ratios.count % 2 == 1
            ? ratios[ratios.count / 2] : (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2
        let p = seconds(plain)
        let o = seconds(observed)
        print(
            String(
                format: "%@: %d batches, %d weights, %d threads: plain %.1f ms, with statistics %.1f ms, overhead %.1f %% (best), %.1f %% (median of pairs); inside observe %.1f ms = %.1f %% of plain",
                arguments[1], batches.count, weights, threads, p * 1000, o * 1000, (o / p - 1) * 100,
                (median - 1) * 100, seconds(inside) * 1000, seconds(inside) / p * 100))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// Passes every call on to a collector and adds up the time spent in `observe`.
final class TimedObserver: NodeObserver {
    let wrapped: StatisticsCollector
    private(set) var elapsed = Duration.zero
    private let clock = ContinuousClock()

    init(_ wrapped: StatisticsCollector) { self.wrapped = wrapped }

    func wantsToObserve(_ node: NodeInfo) -> Bool { wrapped.wantsToObserve(node) }

    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        let start = clock.now
        try wrapped.observe(node: node, inputs: inputs, outputs: outputs)
        elapsed += clock.now - start
    }
}
