import Foundation
import PruneCore
import PruneRuntime

/// Times a model in the interpreter on random inputs of its declared input shapes.
public enum LatencyProbe {
    /// The latency of `runs` forward passes of the ONNX model at `url` with batch `batch`, after one warm-up run.
    ///
    /// Every graph input gets uniform random floats in [-1, 1) of its declared shape, with a symbolic or unknown
    /// leading dimension set to `batch`.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the input when an input is not float or has another unknown
    ///   dimension; errors from loading or running the model.
    public static func measure(url: URL, batch: Int, runs: Int, threads: Int, seed: UInt64 = 0) throws -> Latency {
        let graph = try ONNXGraph(contentsOf: url)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var inputs: [String: RuntimeTensor] = [:]
        for declaration in graph.inputDeclarations {
            guard declaration.dtype == nil || declaration.dtype == .f32 else {
                throw PruneError(
                    .unsupported, "input '\(declaration.name)' is not float32; latency needs float inputs")
            }
            var shape: [Int] = []
            for (position, dimension) in (declaration.dimensions ?? []).enumerated() {
                switch dimension {
                case .fixed(let extent): shape.append(position == 0 && extent == 1 ? batch : extent)
                case .symbolic, .unknown:
                    guard position == 0 else {
                        throw PruneError(
                            .unsupported,
                            "input '\(declaration.name)' has the unknown dimension \(position); latency needs fixed "
                                + "shapes apart from the batch")
                    }
                    shape.append(batch)
                }
            }
            let values = (0..<shape.reduce(1, *)).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 24) * 2 - 1
            }
            inputs[declaration.name] = RuntimeTensor(shape: shape, floats: values)
        }
        let interpreter = try Interpreter(graph: graph, options: .init(threads: threads))
        _ = try interpreter.run(inputs)
        let clock = ContinuousClock()
        var seconds: [Double] = []
        for _ in 0..<max(1, runs) {
            let started = clock.now
            _ = try interpreter.run(inputs)
            let elapsed = clock.now - started
            seconds.append(
                Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return Latency(seconds: seconds, samples: batch * seconds.count)
    }
}
