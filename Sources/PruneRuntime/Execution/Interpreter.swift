import Foundation
import PruneCore

#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// Runs an ``ONNXGraph`` on float32 inputs, node by node, with BLAS-backed matrix products and convolutions.
///
/// Building an interpreter checks every node before anything runs: an operator or attribute value the runtime
/// does not implement is reported then, naming the node. Intermediate values are freed as soon as their last
/// consumer ran, and their storage is recycled (within the run and by later runs) once no tensor refers to it,
/// so a warm interpreter does not fault in fresh pages for every batch.
///
/// Without an observer, a Conv whose only reader is an inference BatchNormalization (whose only reader may be a
/// Relu) runs as one fused step with the normalisation folded into its weights; with an observer every node runs
/// as written, so the observer sees each node's real inputs and outputs.
///
/// An interpreter is not safe to use from several threads at once; its kernels use up to `threads` threads.
public final class Interpreter {
    /// How the interpreter runs.
    public struct Options: Sendable {
        /// Threads for kernels and BLAS; defaults to the active processor count.
        public var threads: Int
        /// Creates options.
        public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.threads = max(1, threads)
        }
    }

    /// The graph being run.
    public let graph: ONNXGraph
    /// The options the interpreter was built with.
    public let options: Options

    private struct Step {
        let node: GraphNode
        let info: NodeInfo
        let kernel: any Kernel
        let inputSlots: [Int?]
        let outputSlots: [Int]
        /// Slots whose last reader is this step (freed after it ran).
        let release: [Int]
    }

    private let steps: [Step]
    /// `steps` with Conv+BatchNormalization(+Relu) chains fused, for runs without an observer.
    private let fusedSteps: [Step]
    private let fusedKernels: [FusedConvBatchNorm]
    /// Storage recycled across and within runs (see `BufferPool`).
    private let pool = BufferPool()
    private let slotOfName: [String: Int]
    private let outputSlots: [Int]
    private var constants: [Int: RuntimeTensor]
    /// The most non-constant values held at once during the last run (a test hook for the freeing policy).
    package private(set) var lastRunPeakLiveValues = 0

    /// Buffers the pool served again and buffers it had to allocate, over this interpreter's life (a test hook).
    package var bufferPoolCounts: (reused: Int, allocated: Int) { pool.counts }
    /// Conv+BatchNormalization(+Relu) chains that run fused without an observer (a test hook).
    package var fusedChainCount: Int { fusedKernels.count }

    /// The op types the runtime implements, sorted.
    public static var supportedOperators: [String] { KernelRegistry.operatorTypes }

    /// Prepares `graph` for running.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the first node whose operator, domain or attribute values
    ///   the runtime does not implement; `invalidInput` for a node reading a value nothing produces.
    public init(graph: ONNXGraph, options: Options = Options()) throws {
        BLAS.holdLibraryToOneThread()
        self.graph = graph
        self.options = options
        var slots: [String: Int] = [:]
        func slot(_ name: String) -> Int {
            if let s = slots[name] { return s }
            let s = slots.count
            slots[name] = s
            return s
        }
        var constants: [Int: RuntimeTensor] = [:]
        for (name, value) in graph.initializers { constants[slot(name)] = value }
        for name in graph.inputNames { _ = slot(name) }
        var available = Set(graph.initializers.keys).union(graph.inputNames)
        // Each node with the names it reads: its inputs, then the outer-scope values its subgraphs read.
        var pending: [(GraphNode, any Kernel, [String])] = []
        for node in graph.nodes {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw node.error(.unsupported, "operator domain '\(node.domain)' is not supported")
            }
            guard let factory = KernelRegistry.factories[node.opType] else {
                throw node.error(.unsupported, "operator \(node.opType) is not supported by the runtime")
            }
            let kernel = try factory(node, graph.opsetVersion)
            let outer = (kernel as? any OuterScopeReader)?.outerScopeNames ?? []
            pending.append((node, kernel, node.inputs + outer))
        }
        // Topological order (ONNX requires it already; this also tolerates files that do not keep it).
        var ordered: [(GraphNode, any Kernel, [String])] = []
        while !pending.isEmpty {
            let before = pending.count
            pending.removeAll { entry in
                let ready = entry.2.allSatisfy { $0.isEmpty || available.contains($0) }
                if ready {
                    ordered.append(entry)
                    available.formUnion(entry.0.outputs.filter { !$0.isEmpty })
                }
                return ready
            }
            if pending.count == before {
                let node = pending[0].0
                let missing = pending[0].2.first { !$0.isEmpty && !available.contains($0) } ?? "?"
                throw node.error(.invalidInput, "input '\(missing)' is produced by no node, initializer or graph input")
            }
        }
        for output in graph.outputNames where !available.contains(output) {
            throw PruneError(.invalidInput, "graph output '\(output)' is produced by no node")
        }
        let keep = Set(graph.outputNames.map { slot($0) }).union(constants.keys)
        let plain = ordered.enumerated().map { position, entry in
            (node: entry.0, kernel: entry.1, inputs: entry.2.map { $0.isEmpty ? nil : slot($0) },
             outputs: entry.0.outputs.map { slot($0) }, info: NodeInfo(
                index: position, name: entry.0.name, opType: entry.0.opType, inputNames: entry.0.inputs,
                outputNames: entry.0.outputs))
        }
        steps = Interpreter.plan(plain, keep: keep)
        // The fused plan: each chain's Conv step reads the Conv's and the BatchNormalization's inputs and writes
        // the last node's output; the BatchNormalization and Relu steps are dropped.
        let chains = FusionPlanner.chains(
            ordered.map(\.0), initializers: Set(graph.initializers.keys),
            // Values a subgraph reads must exist, so they are never fused away.
            graphOutputs: Set(graph.outputNames).union(ordered.flatMap { $0.2.dropFirst($0.0.inputs.count) }))
        var fused = plain.map(Optional.some)
        for chain in chains {
            let conv = plain[chain.conv]
            let bn = plain[chain.batchNorm]
            let convInputs = conv.inputs + [Int?](repeating: nil, count: max(0, 3 - conv.inputs.count))
            let last = chain.relu.map { plain[$0] } ?? bn
            fused[chain.conv] = (
                node: conv.node, kernel: chain.kernel as any Kernel, inputs: Array(convInputs.prefix(3)) + bn.inputs.dropFirst(),
                outputs: [last.outputs[0]], info: conv.info)
            fused[chain.batchNorm] = nil
            if let r = chain.relu { fused[r] = nil }
        }
        fusedSteps = Interpreter.plan(fused.compactMap { $0 }, keep: keep)
        fusedKernels = chains.map(\.kernel)
        slotOfName = slots
        outputSlots = graph.outputNames.map { slot($0) }
        self.constants = constants
    }

    /// Steps in order with the slots each one releases: a slot is released after its last reader (or, if nothing
    /// reads it, after its producer); graph outputs and initializers (`keep`) never are.
    private static func plan(
        _ entries: [(node: GraphNode, kernel: any Kernel, inputs: [Int?], outputs: [Int], info: NodeInfo)], keep: Set<Int>
    ) -> [Step] {
        var lastReader: [Int: Int] = [:]
        for (position, entry) in entries.enumerated() {
            for case let s? in entry.inputs { lastReader[s] = position }
            for s in entry.outputs where lastReader[s] == nil { lastReader[s] = position }
        }
        var releaseAt: [Int: [Int]] = [:]
        for (s, position) in lastReader where !keep.contains(s) { releaseAt[position, default: []].append(s) }
        return entries.enumerated().map { position, entry in
            Step(
                node: entry.node, info: entry.info, kernel: entry.kernel, inputSlots: entry.inputs,
                outputSlots: entry.outputs, release: releaseAt[position] ?? [])
        }
    }

    /// Replaces initializer values by name, for example with a pruned model's weights; no re-decoding.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` when a name is not an initializer of the graph.
    public func replaceInitializers(_ values: [String: RuntimeTensor]) throws {
        for (name, value) in values {
            guard graph.initializers[name] != nil, let s = slotOfName[name] else {
                throw PruneError(.invalidInput, "'\(name)' is not an initializer of the graph")
            }
            constants[s] = value
        }
        for kernel in fusedKernels { kernel.invalidate() }
    }

    /// Replaces every initializer that has a parameter of the same name in `model` with that parameter's values.
    ///
    /// - Returns: the number of initializers replaced.
    /// - Throws: `PruneError.Kind.unsupported` for a parameter dtype the runtime cannot hold.
    @discardableResult
    public func replaceInitializers(from model: Model) throws -> Int {
        var values: [String: RuntimeTensor] = [:]
        for parameter in model.parameters where graph.initializers[parameter.name] != nil {
            values[parameter.name] = try RuntimeTensor(parameter.tensor)
        }
        try replaceInitializers(values)
        return values.count
    }

    /// Restores every initializer to the value stored in the file.
    public func resetInitializers() {
        for (name, value) in graph.initializers { if let s = slotOfName[name] { constants[s] = value } }
        for kernel in fusedKernels { kernel.invalidate() }
    }

    /// Runs the graph on `inputs` (by graph input name) and returns the graph outputs by name.
    ///
    /// The returned tensors are the caller's: their storage is recycled only after the caller (and any observer
    /// that kept a tensor) has released every reference to it.
    ///
    /// - Parameter observer: called after each node with its inputs and outputs. Without one, Conv +
    ///   BatchNormalization (+ Relu) chains run fused (equal to the unfused result up to float rounding).
    /// - Throws: `PruneError` naming the missing input, or the node whose computation failed.
    /// - Complexity: peak memory is the largest set of values alive at once, not the sum of all activations.
    public func run(_ inputs: [String: RuntimeTensor], observer: (any NodeObserver)? = nil) throws -> [String: RuntimeTensor] {
        var values = [RuntimeTensor?](repeating: nil, count: slotOfName.count)
        for (s, value) in constants { values[s] = value }
        for name in graph.inputNames {
            guard let value = inputs[name] else {
                throw PruneError(.invalidInput, "graph input '\(name)' was not given")
            }
            values[slotOfName[name]!] = value
        }
        for name in inputs.keys where !graph.inputNames.contains(name) {
            throw PruneError(.invalidInput, "'\(name)' is not a graph input; inputs are \(graph.inputNames)")
        }
        BLAS.holdLibraryToOneThread()
        return try BufferPool.bind(pool) {
            try execute(observer == nil ? fusedSteps : steps, values: &values, observer: observer)
        }
    }

    private func execute(
        _ steps: [Step], values: inout [RuntimeTensor?], observer: (any NodeObserver)?
    ) throws -> [String: RuntimeTensor] {
        var live = graph.inputNames.count
        var peak = live
        defer { lastRunPeakLiveValues = peak }
        for step in steps {
            let stepInputs = step.inputSlots.map { $0.flatMap { values[$0] } }
            let context = KernelContext(node: step.node, threads: options.threads)
            let outputs = try step.kernel.run(stepInputs, context)
            for (position, s) in step.outputSlots.enumerated() where position < outputs.count {
                values[s] = outputs[position]
            }
            if let observer, observer.wantsToObserve(step.info) {
                // Observers see the node's own inputs, not the outer-scope values its subgraphs read.
                try observer.observe(node: step.info, inputs: Array(stepInputs.prefix(step.node.inputs.count)), outputs: outputs)
            }
            live += step.outputSlots.count
            peak = max(peak, live)
            for s in step.release where values[s] != nil {
                values[s] = nil
                live -= 1
            }
        }
        var result: [String: RuntimeTensor] = [:]
        for (name, s) in zip(graph.outputNames, outputSlots) { result[name] = values[s] }
        return result
    }
}
