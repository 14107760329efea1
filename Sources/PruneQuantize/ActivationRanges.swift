import PruneCore
import PruneRuntime
import PruneStructure

/// The range [low, high] of each named activation over the calibration batches, for static quantisation.
///
/// `minmax` takes the smallest and largest value seen. `percentile` clips outliers: a first pass finds each value's
/// extremes, a second counts its elements in 2,048 equal bins between them, and the range is cut at the
/// (100 − p) / 2 and (100 + p) / 2 percentiles of all elements (bin edges rounded outward). Either way the range
/// is widened to include 0, so zero (padding, ReLU output) is represented exactly.
package struct ActivationRanges {
    /// How a range is taken from the calibration values.
    enum Rule: Sendable, Equatable {
        case minMax
        case percentile(Double)
    }

    /// [low, high] per value name.
    private(set) var ranges: [String: (low: Float, high: Float)] = [:]

    /// Collects the ranges of `values` by running `model` on every calibration batch (twice for percentiles).
    ///
    /// - Throws: `PruneError` naming the batch or node that failed, or a value no batch computed.
    init(of values: Set<String>, in model: Model, batches: any CalibrationBatches, rule: Rule, threads: Int) throws {
        let interpreter = try Interpreter(graph: ONNXGraph.of(model), options: .init(threads: threads))
        let extremes = ExtremesObserver(values: values)
        try Self.runAll(interpreter, batches, extremes)
        for name in values where extremes.extremes[name] == nil {
            throw PruneError(.invalidInput, "'qdq': activation '\(name)' was not computed on the calibration data")
        }
        switch rule {
        case .minMax:
            for (name, range) in extremes.extremes { ranges[name] = (min(range.low, 0), max(range.high, 0)) }
        case .percentile(let p):
            let histograms = HistogramObserver(extremes: extremes.extremes)
            try Self.runAll(interpreter, batches, histograms)
            for (name, counts) in histograms.counts {
                let range = extremes.extremes[name]!
                let (lowBin, highBin) = Self.percentileBins(counts, p: p)
                let width = (range.high - range.low) / Float(HistogramObserver.bins)
                let low = range.low + Float(lowBin) * width
                let high = range.low + Float(highBin + 1) * width
                ranges[name] = (min(low, 0), max(min(high, range.high), 0))
            }
        }
    }

    /// The first and last bins of the central p % of the counts.
    package static func percentileBins(_ counts: [Int], p: Double) -> (Int, Int) {
        let total = counts.reduce(0, +)
        let tail = Double(total) * (100 - p) / 200
        var seen = 0
        var low = 0
        while low < counts.count - 1, Double(seen + counts[low]) <= tail {
            seen += counts[low]
            low += 1
        }
        seen = 0
        var high = counts.count - 1
        while high > low, Double(seen + counts[high]) <= tail {
            seen += counts[high]
            high -= 1
        }
        return (low, high)
    }

    private static func runAll(_ interpreter: Interpreter, _ batches: any CalibrationBatches, _ observer: ValueObserver)
        throws
    {
        for index in 0..<batches.batchCount {
            let inputs = try batches.batch(index, inputs: interpreter.graph.inputNames)
            var fed: [String: RuntimeTensor] = [:]
            for (name, tensor) in inputs { fed[name] = try RuntimeTensor(tensor) }
            observer.visitInputs(fed)
            do {
                _ = try interpreter.run(fed, observer: observer)
            } catch let error as PruneError {
                throw PruneError(error.kind, "'qdq': calibration batch \(index + 1): \(error.message)")
            }
        }
    }
}

/// An observer of selected values wherever they appear: as graph inputs or as node outputs.
private class ValueObserver: NodeObserver {
    let values: Set<String>

    init(values: Set<String>) { self.values = values }

    /// Sees one value; subclasses accumulate.
    func visit(_ name: String, _ tensor: RuntimeTensor) {}

    func visitInputs(_ inputs: [String: RuntimeTensor]) {
        for (name, tensor) in inputs where values.contains(name) { visit(name, tensor) }
    }

    func wantsToObserve(_ node: NodeInfo) -> Bool { node.outputNames.contains { values.contains($0) } }

    func observe(node: NodeInfo, inputs: [RuntimeTensor?], outputs: [RuntimeTensor]) throws {
        for (position, name) in node.outputNames.enumerated() where values.contains(name) && position < outputs.count {
            visit(name, outputs[position])
        }
    }
}

/// The smallest and largest element of each value.
private final class ExtremesObserver: ValueObserver {
    var extremes: [String: (low: Float, high: Float)] = [:]

    override func visit(_ name: String, _ tensor: RuntimeTensor) {
        guard tensor.dtype == .f32 else { return }
        var (low, high) = extremes[name] ?? (.infinity, -.infinity)
        for value in tensor.floatValues() where value.isFinite {
            low = min(low, value)
            high = max(high, value)
        }
        extremes[name] = (low, high)
    }
}

/// Counts of each value's elements in equal bins between its extremes.
private final class HistogramObserver: ValueObserver {
    static let bins = 2048
    let extremes: [String: (low: Float, high: Float)]
    var counts: [String: [Int]] = [:]

    init(extremes: [String: (low: Float, high: Float)]) {
        self.extremes = extremes
        super.init(values: Set(extremes.keys))
    }

    override func visit(_ name: String, _ tensor: RuntimeTensor) {
        guard tensor.dtype == .f32, let range = extremes[name] else { return }
        var histogram = counts[name] ?? [Int](repeating: 0, count: Self.bins)
        let width = max(range.high - range.low, .leastNormalMagnitude)
        let scale = Float(Self.bins) / width
        for value in tensor.floatValues() where value.isFinite {
            let bin = Int((value - range.low) * scale)
            histogram[min(max(bin, 0), Self.bins - 1)] += 1
        }
        counts[name] = histogram
    }
}
