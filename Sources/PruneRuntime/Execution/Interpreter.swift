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
/// consumer ran.
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
    private let slotOfName: [String: Int]
    private let outputSlots: [Int]
    private var constants: [Int: RuntimeTensor]
    /// The most non-constant values held at once during the last run (a test hook for the freeing policy).
    package private(set) var lastRunPeakLiveValues = 0

    /// The op types the runtime implements, sorted.
    public static var supportedOperators: [String] { KernelRegistry.operatorTypes }

    /// Prepares `graph` for running.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the first node whose operator, domain or attribute values
    ///   the runtime does not implement; `invalidInput` for a node reading a value nothing produces.
    public init(graph: ONNXGraph, options: Options = Options()) throws {
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
        var pending: [(GraphNode, any Kernel)] = []
        for node in graph.nodes {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw node.error(.unsupported, "operator domain '\(node.domain)' is not supported")
            }
            guard let factory = KernelRegistry.factories[node.opType] else {
                throw node.error(.unsupported, "operator \(node.opType) is not supported by the runtime")
            }
            pending.append((node, try factory(node, graph.opsetVersion)))
        }
        // Topological order (ONNX requires it already; this also tolerates files that do not keep it).
        var ordered: [(GraphNode, any Kernel)] = []
        while !pending.isEmpty {
            let before = pending.count
            pending.removeAll { entry in
                let ready = entry.0.inputs.allSatisfy { $0.isEmpty || available.contains($0) }
                if ready {
                    ordered.append(entry)
                    available.formUnion(entry.0.outputs.filter { !$0.isEmpty })
                }
                return ready
            }
            if pending.count == before {
                let node = pending[0].0
                let missing = node.inputs.first { !$0.isEmpty && !available.contains($0) } ?? "?"
                throw node.error(.invalidInput, "input '\(missing)' is produced by no node, initializer or graph input")
            }
        }
        for output in graph.outputNames where !available.contains(output) {
            throw PruneError(.invalidInput, "graph output '\(output)' is produced by no node")
        }
        // Last reader of each slot; graph outputs and initializers are never released.
        var lastReader: [Int: Int] = [:]
        var stepInputs: [[Int?]] = []
        var stepOutputs: [[Int]] = []
        for (position, (node, _)) in ordered.enumerated() {
            let inputs = node.inputs.map { $0.isEmpty ? nil : slot($0) }
            for case let s? in inputs { lastReader[s] = position }
            let outputs = node.outputs.map { slot($0) }
            for s in outputs where lastReader[s] == nil { lastReader[s] = position }
            stepInputs.append(inputs)
            stepOutputs.append(outputs)
        }
        let keep = Set(graph.outputNames.map { slot($0) }).union(constants.keys)
        var releaseAt: [Int: [Int]] = [:]
        for (s, position) in lastReader where !keep.contains(s) { releaseAt[position, default: []].append(s) }
        steps = ordered.enumerated().map { position, entry in
            let node = entry.0
            let info = NodeInfo(
                index: position, name: node.name, opType: node.opType, inputNames: node.inputs, outputNames: node.outputs)
            return Step(
                node: node, info: info, kernel: entry.1, inputSlots: stepInputs[position],
                outputSlots: stepOutputs[position], release: releaseAt[position] ?? [])
        }
        slotOfName = slots
        outputSlots = graph.outputNames.map { slot($0) }
        self.constants = constants
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
    }

    /// Runs the graph on `inputs` (by graph input name) and returns the graph outputs by name.
    ///
    /// - Parameter observer: called after each node with its inputs and outputs.
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
        Interpreter.configureBLAS(threads: options.threads)
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
                try observer.observe(node: step.info, inputs: stepInputs, outputs: outputs)
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

    /// Tells BLAS how many threads to use (a process-wide setting, so it is renewed at the start of every run);
    /// our own loops never call BLAS from several threads at once.
    private static func configureBLAS(threads: Int) {
        #if !canImport(Accelerate)
            openblas_set_num_threads(Int32(threads))
        #endif
    }
}
