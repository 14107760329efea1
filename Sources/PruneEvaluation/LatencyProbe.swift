import Foundation
import PruneCore
import PruneRuntime

/// Times a model in the interpreter on random inputs of its declared input shapes.
public enum LatencyProbe {
    /// How long to time: untimed warm-up runs, then timed runs until both minimums hold.
    public struct Settings: Sendable, Hashable {
        /// Untimed runs first (caches, allocator, thread pool).
        public var warmupRuns: Int
        /// Timed runs at least.
        public var minimumRuns: Int
        /// Seconds of timed runs at least.
        public var minimumSeconds: Double

        /// Creates settings.
        public init(warmupRuns: Int = 3, minimumRuns: Int = 10, minimumSeconds: Double = 1) {
            self.warmupRuns = warmupRuns
            self.minimumRuns = minimumRuns
            self.minimumSeconds = minimumSeconds
        }
    }

    /// The seconds of each timed forward pass of the ONNX model at `url` with batch `batch`, after
    /// `settings.warmupRuns` untimed ones; runs continue until `minimumRuns` and `minimumSeconds` both hold.
    ///
    /// Every graph input gets uniform random floats in [-1, 1) of its declared shape, with a symbolic or unknown
    /// leading dimension set to `batch`.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the input when an input is not float or has another unknown
    ///   dimension; errors from loading or running the model.
    public static func timings(url: URL, batch: Int, settings: Settings, threads: Int, seed: UInt64 = 0) throws
        -> [Double]
    {
        try timings(graph: try ONNXGraph(contentsOf: url), batch: batch, settings: settings, threads: threads, seed: seed)
    }

    /// The seconds of each timed forward pass of `graph` (an in-memory model), as ``timings(url:batch:settings:threads:seed:)``.
    public static func timings(graph: ONNXGraph, batch: Int, settings: Settings, threads: Int, seed: UInt64 = 0) throws
        -> [Double]
    {
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
        for _ in 0..<max(0, settings.warmupRuns) { _ = try interpreter.run(inputs) }
        let clock = ContinuousClock()
        var seconds: [Double] = []
        var total = 0.0
        while seconds.count < max(1, settings.minimumRuns) || total < settings.minimumSeconds {
            let started = clock.now
            _ = try interpreter.run(inputs)
            let elapsed = clock.now - started
            let run = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            seconds.append(run)
            total += run
        }
        return seconds
    }
}
