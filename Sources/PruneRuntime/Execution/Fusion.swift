import Foundation
import PruneCore

/// Conv followed by inference BatchNormalization (and optionally Relu) as one kernel, for runs without an
/// observer: the normalisation is folded into the convolution's weights and bias, and Relu is applied while the
/// product is copied out, so the two intermediates are never written.
///
/// `y = ((conv(x, W) + B − mean) · s + β)` with `s = γ / sqrt(var + ε)` equals `conv(x, W·s) + (B·s + β − mean·s)`
/// per output channel; the folded weights differ from the three-pass result only by float rounding.
///
/// Inputs: `X, W, B?` (Conv) then `scale, B, mean, var` (BatchNormalization). The folded weights are computed on
/// first use and reused while the six parameter tensors are the same storage; replacing an initializer gives a
/// new storage, which refolds (``invalidate()`` also drops the cache at once).
final class FusedConvBatchNorm: Kernel, @unchecked Sendable {
    let conv: GraphNode
    let batchNorm: GraphNode
    let relu: Bool
    private let settings: ConvOps.Settings
    private let epsilon: Float
    private let lock = NSLock()
    private var cache: (sources: [RuntimeTensor?], weights: RuntimeTensor, bias: RuntimeTensor)?

    init(conv: GraphNode, batchNorm: GraphNode, relu: Bool) throws {
        self.conv = conv
        self.batchNorm = batchNorm
        self.relu = relu
        settings = try ConvOps.Settings(conv)
        epsilon = try batchNorm.float("epsilon", default: 1e-5)
    }

    /// Drops the folded weights (after initializers were replaced).
    func invalidate() {
        lock.lock()
        cache = nil
        lock.unlock()
    }

    func run(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let x = try context.input(inputs, 0)
        let sources = Array(inputs[1...])
        let (weights, bias) = try folded(sources, context)
        return [try ConvOps.run(x: x, w: weights, bias: bias, settings, context, relu: relu)]
    }

    private func folded(_ sources: [RuntimeTensor?], _ context: KernelContext) throws -> (RuntimeTensor, RuntimeTensor) {
        lock.lock()
        defer { lock.unlock() }
        if let cache, cache.sources.count == sources.count,
            zip(cache.sources, sources).allSatisfy({ $0?.storage === $1?.storage && $0?.shape == $1?.shape })
        {
            return (cache.weights, cache.bias)
        }
        guard let w = sources[0] else { throw context.error(.invalidInput, "required input 1 is missing") }
        try context.require(w, [.f32], "input 1 (W)")
        guard w.shape.count >= 1, w.shape[0] > 0 else { throw context.error(.shapeMismatch, "W \(w.shape) has no filters") }
        let filters = w.shape[0]
        let convBias = sources[1]
        if let convBias {
            try context.require(convBias, [.f32], "input 2 (B)")
            guard convBias.count == filters else {
                throw context.error(.shapeMismatch, "B has \(convBias.count) values for \(filters) filters")
            }
        }
        var parameters: [RuntimeTensor] = []
        for i in 0..<4 {
            guard let t = sources[2 + i] else { throw batchNorm.error(.invalidInput, "required input \(i + 1) is missing") }
            guard t.dtype == .f32 else {
                throw batchNorm.error(.unsupported, "input \(i + 1) has dtype \(t.dtype.rawValue); only f32 is supported")
            }
            guard t.count == filters else {
                throw batchNorm.error(.shapeMismatch, "scale, B, mean and var must have C = \(filters) values")
            }
            parameters.append(t)
        }
        // Folded tensors live as long as the cache, so they do not come from the run's buffer pool.
        let (weights, bias) = BufferPool.bind(nil) {
            (RuntimeTensor(uninitialized: .f32, shape: w.shape), RuntimeTensor(uninitialized: .f32, shape: [filters]))
        }
        let per = w.count / filters
        for m in 0..<filters {
            // The same float steps as the BatchNormalization kernel's scale and shift.
            let s = parameters[0].f32[m] / (parameters[3].f32[m] + epsilon).squareRoot()
            let shift = parameters[1].f32[m] - parameters[2].f32[m] * s
            for k in 0..<per { weights.f32[m * per + k] = w.f32[m * per + k] * s }
            bias.f32[m] = (convBias?.f32[m] ?? 0) * s + shift
        }
        cache = (sources, weights, bias)
        return (weights, bias)
    }
}

/// Finds Conv → BatchNormalization (→ Relu) chains that may run fused when nothing observes the nodes.
enum FusionPlanner {
    /// A chain: the Conv's position in execution order and the positions the fused step replaces.
    struct Chain {
        let conv: Int
        let batchNorm: Int
        let relu: Int?
        let kernel: FusedConvBatchNorm
    }

    /// Chains in `nodes` (execution order) whose intermediates have exactly one reader and are not graph
    /// outputs, with the Conv weights/bias and all BatchNormalization parameters coming from initializers.
    static func chains(_ nodes: [GraphNode], initializers: Set<String>, graphOutputs: Set<String>) -> [Chain] {
        var readers: [String: [Int]] = [:]
        for (position, node) in nodes.enumerated() {
            for name in node.inputs where !name.isEmpty { readers[name, default: []].append(position) }
        }
        func soleReader(_ value: String) -> Int? {
            guard !graphOutputs.contains(value), let list = readers[value], list.count == 1 else { return nil }
            return list[0]
        }
        var chains: [Chain] = []
        for (position, conv) in nodes.enumerated() where conv.opType == "Conv" {
            guard conv.outputs.count == 1, conv.inputs.count >= 2,
                conv.inputs.dropFirst().allSatisfy({ $0.isEmpty || initializers.contains($0) }),
                let b = soleReader(conv.outputs[0])
            else { continue }
            let bn = nodes[b]
            guard bn.opType == "BatchNormalization", bn.inputs.count == 5, bn.inputs[0] == conv.outputs[0],
                bn.inputs.dropFirst().allSatisfy({ initializers.contains($0) }),
                !bn.outputs.isEmpty, !bn.outputs[0].isEmpty, bn.outputs.dropFirst().allSatisfy(\.isEmpty)
            else { continue }
            var relu: Int?
            if let r = soleReader(bn.outputs[0]), nodes[r].opType == "Relu", nodes[r].inputs == [bn.outputs[0]],
                nodes[r].outputs.count == 1
            {
                relu = r
            }
            guard let kernel = try? FusedConvBatchNorm(conv: conv, batchNorm: bn, relu: relu != nil) else { continue }
            chains.append(Chain(conv: position, batchNorm: b, relu: relu, kernel: kernel))
        }
        return chains
    }
}
