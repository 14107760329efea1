import PruneCore

/// A ``NodeObserver`` that accumulates calibration statistics for the layer weights of a graph while the
/// interpreter runs calibration batches.
///
/// Only sums and counts are kept (Σx² per input feature; Σ|a| and zero counts per output unit), so memory is
/// bounded by the number of features and units, whatever the number of batches. Nodes with nothing to collect
/// are not observed at all. Each observed value is scanned once per batch, with all its sums in one pass
/// (``StatisticsKernels``), split across `threads` when it is large; a value that is both a layer's observed
/// output and the next layer's input is not scanned twice.
///
/// ```swift
/// let collector = try StatisticsCollector(graph: graph, kinds: .all, threads: 2)
/// for batch in batches { _ = try interpreter.run(batch, observer: collector); collector.finishBatch() }
/// let statistics = collector.statistics
/// ```
public final class StatisticsCollector: NodeObserver {
    /// The kinds being collected.
    public let kinds: StatisticKinds
    /// The weights statistics are collected for, in graph order.
    public let weights: [String]

    private let plan: CalibrationPlan
    private let threads: Int
    private var inputs: [String: InputFeatureStatistics] = [:]
    private var outputs: [String: OutputUnitStatistics] = [:]
    private var batches = 0
    /// Sums already taken this run, by value name: a ReLU output observed for one layer's units and read as the
    /// next layer's input features is scanned once, and so is an input shared by several layers (Q, K, V).
    private var taken: [String: (axis: Int, sums: AxisSums)] = [:]
    /// The execution index of the node observed last; a smaller or equal index starts a new run.
    private var lastIndex = -1
    /// The current batch's token positions (the shape of its padding mask and, per position, whether it is a real
    /// token): a value `[b, s, features]` is summed over its real positions only. nil: every position counts.
    package var realPositions: (shape: [Int], real: [Bool])? = nil

    /// Plans collection of `kinds` for the Conv, Gemm and MatMul weight initializers of `graph`.
    ///
    /// - Parameters:
    ///   - only: restricts collection to these weight names (nil: every layer weight).
    ///   - threads: how many threads the passes over large activations may use (the interpreter's count).
    /// - Throws: `PruneError` for a malformed attribute of a layer node.
    public init(graph: ONNXGraph, kinds: StatisticKinds, only: Set<String>? = nil, threads: Int = 1) throws {
        self.kinds = kinds
        self.threads = max(1, threads)
        plan = try CalibrationPlan(graph: graph, only: only)
        weights = plan.weights
    }

    /// The statistics gathered so far.
    public var statistics: CalibrationStatistics {
        CalibrationStatistics(inputs: inputs, outputs: outputs, batches: batches)
    }

    /// Counts one more finished calibration batch.
    public func finishBatch() {
        batches += 1
        taken.removeAll()
        lastIndex = -1
    }

    /// Observes layer nodes (for input features) and the nodes whose outputs are layer outputs (for units).
    public func wantsToObserve(_ node: NodeInfo) -> Bool {
        guard let output = node.outputNames.first else { return false }
        return (kinds.contains(.inputFeatures) && plan.inputTaps[output] != nil)
            || (kinds.contains(.outputUnits) && plan.outputTaps[output] != nil)
    }

    /// Adds the node's contribution to the statistics.
    ///
    /// - Throws: `PruneError.Kind.shapeMismatch` naming the weight when a value's extent disagrees with the
    ///   weight's, `unsupported` for a value that is not float32.
    public func observe(node: NodeInfo, inputs values: [RuntimeTensor?], outputs results: [RuntimeTensor]) throws {
        guard let output = node.outputNames.first else { return }
        if node.index <= lastIndex { taken.removeAll() }
        lastIndex = node.index
        if kinds.contains(.outputUnits), let taps = plan.outputTaps[output], let a = results.first {
            for tap in taps { try addOutput(a, named: output, tap) }
        }
        if kinds.contains(.inputFeatures), let taps = plan.inputTaps[output], let x = values.first ?? nil {
            for tap in taps { try addInput(x, tap) }
        }
    }

    /// The sums of `value` along `axis`, scanned once per run and value.
    private func sums(of value: RuntimeTensor, named name: String, axis: Int, weight: String, what: String) throws
        -> (extent: Int, sums: AxisSums)
    {
        let (outer, extent, inner, resolved) = try split(value, axis: axis, weight: weight, what: what)
        if let cached = taken[name], cached.axis == resolved, cached.sums.squares.count == extent {
            return (extent, cached.sums)
        }
        let sums = StatisticsKernels.sums(value.f32, outer: outer, extent: extent, inner: inner, threads: threads)
        taken[name] = (resolved, sums)
        return (extent, sums)
    }

    private func addInput(_ value: RuntimeTensor, _ tap: CalibrationPlan.InputTap) throws {
        let x = realRows(of: value, axis: tap.featureAxis)
        let (extent, sums) = try self.sums(
            of: x, named: tap.value, axis: tap.featureAxis, weight: tap.weight, what: "input")
        var plain: [Double]? = nil
        if kinds.contains(.inputMeans) {
            let (outer, _, inner, _) = try split(x, axis: tap.featureAxis, weight: tap.weight, what: "input")
            plain = Self.plainSums(x.f32, outer: outer, extent: extent, inner: inner)
        }
        let added = InputFeatureStatistics(squareSums: sums.squares, count: sums.count, groups: tap.groups, sums: plain)
        if var existing = inputs[tap.weight] {
            guard existing.featureCount == extent else {
                throw PruneError(
                    .shapeMismatch,
                    "'\(tap.weight)' is fed \(existing.featureCount) features in one place and \(extent) in another")
            }
            existing.merge(added)
            inputs[tap.weight] = existing
        } else {
            inputs[tap.weight] = added
        }
    }

    private func addOutput(_ value: RuntimeTensor, named name: String, _ tap: CalibrationPlan.OutputTap) throws {
        let a = realRows(of: value, axis: tap.unitAxis)
        let (extent, sums) = try self.sums(of: a, named: name, axis: tap.unitAxis, weight: tap.weight, what: "output")
        guard extent == tap.unitCount else {
            throw PruneError(
                .shapeMismatch,
                "'\(tap.weight)' has \(tap.unitCount) output units but the observed value '\(name)' has \(extent)"
            )
        }
        let added = OutputUnitStatistics(
            absoluteSums: sums.absolutes, zeroCounts: sums.zeros, count: sums.count, observedOp: tap.observedOp)
        if var existing = outputs[tap.weight] {
            existing.merge(added)
            outputs[tap.weight] = existing
        } else {
            outputs[tap.weight] = added
        }
    }

    /// `value` `[b, s, features]` as `[1, real positions, features]` when ``realPositions`` marks padding in its
    /// `[b, s]` and `axis` is its last; otherwise `value` itself.
    private func realRows(of value: RuntimeTensor, axis: Int) -> RuntimeTensor {
        guard let (shape, real) = realPositions, value.dtype == .f32,
            PaddingMask.marksRows(of: value.shape, maskShape: shape), axis == -1 || axis == shape.count,
            real.contains(false)
        else { return value }
        let width = value.shape[shape.count]
        let kept = PaddingMask.realRows(real, of: UnsafeBufferPointer(start: value.f32, count: value.count), width: width)
        return RuntimeTensor(shape: [1, kept.count / max(1, width), width], floats: kept)
    }

    /// Σx per index of the middle axis of a `[outer, extent, inner]` view (for ``StatisticKinds/inputMeans``).
    static func plainSums(_ values: UnsafePointer<Float>, outer: Int, extent: Int, inner: Int) -> [Double] {
        var sums = [Double](repeating: 0, count: extent)
        for o in 0..<outer {
            for j in 0..<extent {
                let base = (o * extent + j) * inner
                var partial: Float = 0
                for i in 0..<inner { partial += values[base + i] }
                sums[j] += Double(partial)
            }
        }
        return sums
    }

    private func split(_ value: RuntimeTensor, axis: Int, weight: String, what: String) throws -> (Int, Int, Int, Int) {
        guard value.dtype == .f32 else {
            throw PruneError(.unsupported, "the \(what) of '\(weight)' is \(value.dtype.rawValue); statistics need f32")
        }
        let shape = value.shape.isEmpty ? [1] : value.shape
        let resolved = axis < 0 ? shape.count + axis : axis
        guard resolved >= 0, resolved < shape.count else {
            throw PruneError(.shapeMismatch, "the \(what) of '\(weight)' has rank \(shape.count); no axis \(axis)")
        }
        return (shape[..<resolved].reduce(1, *), shape[resolved], shape[(resolved + 1)...].reduce(1, *), resolved)
    }
}
