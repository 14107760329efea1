import Foundation
import PruneCore
import Testing

import PruneRuntime

/// Timing of whole models, run only when `PRUNE_RUNTIME_BENCH` names a folder holding `<name>.onnx` and
/// `<name>_data/{input,output}_*.pb` (build with `-c release` for meaningful numbers).
@Suite("Benchmark", .serialized, .enabled(if: ProcessInfo.processInfo.environment["PRUNE_RUNTIME_BENCH"] != nil))
struct BenchmarkTests {
    @Test("models run, match their reference output and report their time at 1 and 2 threads", arguments: ["cnn", "bert"])
    func model(_ name: String) throws {
        let root = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PRUNE_RUNTIME_BENCH"] ?? "")
        let graph = try ONNXGraph(contentsOf: root.appendingPathComponent("\(name).onnx"))
        let data = root.appendingPathComponent("\(name)_data")
        var inputs: [String: RuntimeTensor] = [:]
        for (position, inputName) in graph.inputNames.enumerated() {
            inputs[inputName] = try RuntimeTensor.load(tensorProtoAt: data.appendingPathComponent("input_\(position).pb")).tensor
        }
        let expected = try RuntimeTensor.load(tensorProtoAt: data.appendingPathComponent("output_0.pb")).tensor
        for threads in [1, 2] {
            let interpreter = try Interpreter(graph: graph, options: .init(threads: threads))
            var best = Double.infinity
            var output: RuntimeTensor?
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                output = try interpreter.run(inputs)[graph.outputNames[0]]
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            print("PruneRuntime \(name) threads=\(threads): \(String(format: "%.1f", best)) ms")
            let timer = OpTimer()
            _ = try interpreter.run(inputs, observer: timer)
            let top = timer.milliseconds.sorted { $0.value > $1.value }.prefix(10)
            print("  by op: " + top.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", "))
            let got = try #require(output)
            #expect(ConformanceTests.compare(got, expected) == nil)
        }
    }
}

/// Attributes wall time between consecutive node completions to the op that just finished.
final class OpTimer: NodeObserver {
    var last = DispatchTime.now().uptimeNanoseconds
    var milliseconds: [String: Double] = [:]
    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        let now = DispatchTime.now().uptimeNanoseconds
        milliseconds[node.opType == "Conv" ? "Conv:" + node.outputNames[0] : node.opType, default: 0] += Double(now - last) / 1e6
        last = now
    }
}
