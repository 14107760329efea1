import PruneCore

/// A kernel whose subgraphs read values of the enclosing graph by name; the interpreter feeds them after the
/// node's own inputs, in this order.
protocol OuterScopeReader {
    /// The enclosing graph's values the subgraphs read.
    var outerScopeNames: [String] { get }
}

/// An interpreter for one subgraph, shared by a kernel (the interpreter runs one node at a time).
final class SubgraphRunner: @unchecked Sendable {
    let interpreter: Interpreter
    /// The subgraph's declared inputs (Loop body: iteration number, condition, carried values), in order.
    let formalInputs: [String]
    let outerScope: [String]

    init(_ subgraph: Subgraph, opset: Int, threads: Int) throws {
        outerScope = ONNXGraph.outerScopeNames(of: subgraph.proto)
        let graph = try ONNXGraph(
            graph: subgraph.proto, opset: opset, outerScope: outerScope, modelURL: subgraph.modelURL)
        formalInputs = subgraph.proto.input.map(\.name).filter { graph.initializer(named: $0) == nil }
        interpreter = try Interpreter(graph: graph, options: .init(threads: threads))
    }

    /// Runs the subgraph on its formal inputs and the outer values (by name); returns its outputs in order.
    func run(formal: [RuntimeTensor], outer: [String: RuntimeTensor], _ context: KernelContext) throws -> [RuntimeTensor] {
        var feed: [String: RuntimeTensor] = [:]
        for (name, value) in zip(formalInputs, formal) { feed[name] = value }
        for name in outerScope {
            guard let value = outer[name] else { throw context.error(.invalidInput, "outer-scope value '\(name)' is missing") }
            feed[name] = value
        }
        let outputs = try interpreter.run(feed)
        return try interpreter.graph.outputNames.map { name in
            guard let value = outputs[name] else { throw context.error(.invalidInput, "subgraph output '\(name)' is missing") }
            return value
        }
    }
}

/// If: runs `then_branch` or `else_branch` on the enclosing graph's values.
struct IfKernel: Kernel, OuterScopeReader {
    let thenBranch: SubgraphRunner
    let elseBranch: SubgraphRunner
    let outerScopeNames: [String]
    let declaredInputs: Int

    init(_ node: GraphNode, opset: Int) throws {
        let threads = 1
        thenBranch = try SubgraphRunner(try node.subgraph("then_branch"), opset: opset, threads: threads)
        elseBranch = try SubgraphRunner(try node.subgraph("else_branch"), opset: opset, threads: threads)
        var names = thenBranch.outerScope
        for name in elseBranch.outerScope where !names.contains(name) { names.append(name) }
        outerScopeNames = names
        declaredInputs = node.inputs.count
    }

    func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let condition = try context.input(inputs, 0)
        guard condition.count == 1 else { throw context.error(.invalidInput, "condition has \(condition.count) elements, not 1") }
        let outer = outerValues(inputs)
        let branch = condition.floatValues()[0] != 0 ? thenBranch : elseBranch
        return try branch.run(formal: [], outer: outer, context)
    }

    func outerValues(_ inputs: [RuntimeTensor?]) -> [String: RuntimeTensor] {
        var outer: [String: RuntimeTensor] = [:]
        for (position, name) in outerScopeNames.enumerated() {
            let index = declaredInputs + position
            if index < inputs.count, let value = inputs[index] { outer[name] = value }
        }
        return outer
    }
}

/// Loop: runs `body` while the trip count and condition allow, carrying values and stacking scan outputs.
struct LoopKernel: Kernel, OuterScopeReader {
    let body: SubgraphRunner
    let outerScopeNames: [String]
    let declaredInputs: Int

    init(_ node: GraphNode, opset: Int) throws {
        body = try SubgraphRunner(try node.subgraph("body"), opset: opset, threads: 1)
        outerScopeNames = body.outerScope
        declaredInputs = node.inputs.count
    }

    func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        var outer: [String: RuntimeTensor] = [:]
        for (position, name) in outerScopeNames.enumerated() {
            let index = declaredInputs + position
            if index < inputs.count, let value = inputs[index] { outer[name] = value }
        }
        let tripCount: Int64? = inputs.count > 0 ? inputs[0].map { $0.int64Values().first ?? 0 } : nil
        var condition: Bool = inputs.count > 1 ? (inputs[1].map { ($0.floatValues().first ?? 0) != 0 } ?? true) : true
        var carried: [RuntimeTensor] = []
        for index in 2..<max(2, declaredInputs) {
            guard let value = inputs[index] else { throw context.error(.invalidInput, "loop-carried input \(index) is missing") }
            carried.append(value)
        }
        let bodyOutputs = body.interpreter.graph.outputNames.count
        let scanCount = bodyOutputs - 1 - carried.count
        guard scanCount >= 0 else { throw context.error(.invalidInput, "body has too few outputs for its carried values") }
        var scans = [[RuntimeTensor]](repeating: [], count: scanCount)
        var iteration: Int64 = 0
        while condition, tripCount.map({ iteration < $0 }) ?? true {
            let formal = [RuntimeTensor(shape: [], int64s: [iteration]), RuntimeTensor(shape: [], bools: [condition])] + carried
            let outputs = try body.run(formal: formal, outer: outer, context)
            condition = (outputs[0].floatValues().first ?? 0) != 0
            carried = Array(outputs[1..<(1 + carried.count)])
            for k in 0..<scanCount { scans[k].append(outputs[1 + carried.count + k]) }
            iteration += 1
            if tripCount == nil && iteration > 1 << 24 {
                throw context.error(.unsupported, "loop ran more than 2^24 iterations without a trip count")
            }
        }
        var results = carried
        for k in 0..<scanCount {
            results.append(try stack(scans[k], context))
        }
        return results
    }

    /// Stacks equal-shaped tensors along a new leading axis.
    private func stack(_ values: [RuntimeTensor], _ context: KernelContext) throws -> RuntimeTensor {
        guard let first = values.first else { return RuntimeTensor(uninitialized: .f32, shape: [0]) }
        for value in values where value.shape != first.shape || value.dtype != first.dtype {
            throw context.error(.shapeMismatch, "scan output shapes differ across iterations (\(first.shape), \(value.shape))")
        }
        let out = try CheckedSize.tensor(first.dtype, [values.count] + first.shape, context)
        let bytes = first.count * first.dtype.byteSize
        for (i, value) in values.enumerated() { (out.raw + i * bytes).copyMemory(from: value.raw, byteCount: bytes) }
        return out
    }
}

/// If and Loop.
enum ControlFlowOps {
    static let factories: [String: KernelFactory] = [
        "If": { node, opset in try IfKernel(node, opset: opset) },
        "Loop": { node, opset in try LoopKernel(node, opset: opset) },
    ]
}
