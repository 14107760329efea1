import Foundation
import ONNXProto

/// Folds a constant `Pad` into the Conv or pool that reads it, where the result is exactly the same.
///
/// A `Pad` (constant pads, no `axes` input, nothing added on the batch and channel axes, no negative pads) whose
/// only reader is input 0 of one default-domain node, and whose output is no graph output, disappears into:
/// - `Conv` (`auto_pad` NOTSET): mode `constant` with value 0 — a Conv's own pads are zeros;
/// - `MaxPool` (`auto_pad` NOTSET, no `Indices` output): mode `constant` with value −∞ — a MaxPool's own pads are
///   −∞; or mode `edge` when `ceil_mode` is 0, every dilation 1 and each kernel extent exceeds the pad on its side,
///   so every window that reaches a repeated edge value also holds the edge value itself;
/// - `AveragePool` (`auto_pad` NOTSET, `ceil_mode` 0) with `count_include_pad` 1: mode `constant` with value 0 — its
///   own pads then count as zeros too.
/// The reader's `pads` grow by the Pad's spatial pads; a pool's pads must stay smaller than its kernel (ONNX Runtime
/// requires it). Pads computed by a sub-graph count as constant when `ONNXShapeInference` folds them at load time
/// (PyTorch's TorchScript exporter writes `F.pad` as `ConstantOfShape → Concat → Reshape → Slice → Transpose →
/// Reshape → Cast`), unless the sub-graph reads a `Shape` or `Size` while an input extent is unknown (inference
/// takes the batch as 1); the nodes that computed nothing but folded pads then go too. Anything else (reflect, a
/// non-zero constant before a Conv, a pool that leaves pads out of the average, pads known only at run time) stays
/// a `Pad` node.
enum ONNXPadFolding {
    /// Folds every foldable Pad of `graph` in place; returns how many went.
    static func apply(to graph: inout Onnx_GraphProto) -> Int {
        let outputs = Set(graph.output.map(\.name))
        let initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var constants: [String: Onnx_TensorProto] = [:]
        for node in graph.node where node.opType == "Constant" && isDefault(node) {
            if let output = node.output.first, let value = node.attribute(named: "value"), value.hasT {
                constants[output] = value.t
            }
        }
        func tensor(_ name: String) -> Onnx_TensorProto? { initializers[name] ?? constants[name] }
        let folded = foldedPads(graph, known: { tensor($0) != nil })
        func pads(_ name: String) -> [Int64]? {
            if let constant = tensor(name) { return ONNXShapeInference.int64Values(constant) }
            return folded[name]
        }
        var readers: [String: [(node: Int, position: Int)]] = [:]
        for (n, node) in graph.node.enumerated() {
            for (position, input) in node.input.enumerated() where !input.isEmpty {
                readers[input, default: []].append((n, position))
            }
            for body in node.subgraphs { for name in outerReads(body) { readers[name, default: []].append((n, -1)) } }
        }
        var dropped = Set<Int>()
        for (p, pad) in graph.node.enumerated() where pad.opType == "Pad" && isDefault(pad) {
            guard let output = pad.output.first, !outputs.contains(output), pad.input.count >= 1,
                let uses = readers[output], uses.count == 1, uses[0].position == 0,
                let spec = padSpec(pad, tensor: tensor, pads: pads), !dropped.contains(uses[0].node)
            else { continue }
            let n = uses[0].node
            guard let pads = foldedPads(spec, into: graph.node[n]) else { continue }
            setPads(&graph.node[n], pads)
            graph.node[n].input[0] = pad.input[0]
            dropped.insert(p)
        }
        guard !dropped.isEmpty else { return 0 }
        let count = dropped.count
        let padInputs = dropped.flatMap { graph.node[$0].input.dropFirst() }
        dropDeadProducers(of: padInputs, graph: graph, readers: readers, outputs: outputs, dropped: &dropped)
        graph.node = graph.node.enumerated().filter { !dropped.contains($0.offset) }.map(\.element)
        return count
    }

    /// The values shape folding finds at load time for the pads inputs of Pad nodes that are neither initializers
    /// nor Constant outputs; empty (and no inference run) when every Pad's pads are constant already.
    private static func foldedPads(_ graph: Onnx_GraphProto, known: (String) -> Bool) -> [String: [Int64]] {
        let computed = graph.node.filter { $0.opType == "Pad" && isDefault($0) && $0.input.count >= 2 }
            .map { $0.input[1] }.filter { !$0.isEmpty && !known($0) }
        guard !computed.isEmpty else { return [:] }
        var dims: [String: [Int64]] = [:]
        var constants: [String: [Int64]] = [:]
        for initializer in graph.initializer {
            dims[initializer.name] = initializer.dims
            if let values = ONNXShapeInference.int64Values(initializer) { constants[initializer.name] = values }
        }
        let inference = ONNXShapeInference(graph: graph, initializerDims: dims, constants: constants)
        // Shape inference takes an unknown batch extent as 1; pads computed from a Shape or Size would then hold
        // for batch 1 only, so with any unknown input extent they are not written into a Conv.
        let weights = Set(graph.initializer.map(\.name))
        let staticInputs = graph.input.filter { !weights.contains($0.name) }.allSatisfy { input in
            input.type.tensorType.hasShape
                && input.type.tensorType.shape.dim.allSatisfy { dim in
                    if case .dimValue(let extent)? = dim.value { extent > 0 } else { false }
                }
        }
        var producer: [String: Onnx_NodeProto] = [:]
        for node in graph.node { for output in node.output where !output.isEmpty { producer[output] = node } }
        func readsShapes(_ name: String) -> Bool {
            var pending = [name]
            var seen = Set<String>()
            while let next = pending.popLast() {
                guard seen.insert(next).inserted, let node = producer[next] else { continue }
                if ["Shape", "Size"].contains(node.opType) { return true }
                pending += node.input.filter { !$0.isEmpty }
            }
            return false
        }
        var found: [String: [Int64]] = [:]
        for name in computed where staticInputs || !readsShapes(name) {
            if let values = inference.values[name] { found[name] = values }
        }
        return found
    }

    /// Adds to `dropped` the default-domain nodes, without subgraphs, that computed `names` and whose outputs no
    /// remaining node or graph output reads, then the same for their inputs' producers, and so on.
    private static func dropDeadProducers(
        of names: [String], graph: Onnx_GraphProto, readers: [String: [(node: Int, position: Int)]],
        outputs: Set<String>, dropped: inout Set<Int>
    ) {
        var producer: [String: Int] = [:]
        for (n, node) in graph.node.enumerated() {
            for output in node.output where !output.isEmpty { producer[output] = n }
        }
        var pending = names
        while let name = pending.popLast() {
            guard let n = producer[name], !dropped.contains(n) else { continue }
            let node = graph.node[n]
            guard isDefault(node), node.subgraphs.isEmpty,
                node.output.allSatisfy({ output in
                    output.isEmpty
                        || (!outputs.contains(output)
                            && (readers[output] ?? []).allSatisfy({ dropped.contains($0.node) }))
                })
            else { continue }
            dropped.insert(n)
            pending += node.input.filter { !$0.isEmpty }
        }
    }

    /// What a Pad adds: its mode, constant value and spatial pads as `[x1_begin, …, x1_end, …]`.
    private struct PadSpec {
        var mode: String
        var value: Float
        var spatial: [Int64]
    }

    private static func padSpec(
        _ node: Onnx_NodeProto, tensor: (String) -> Onnx_TensorProto?, pads padValues: (String) -> [Int64]?
    ) -> PadSpec? {
        let mode = node.stringAttribute("mode") ?? "constant"
        var pads: [Int64]
        var value: Float = 0
        if let attribute = node.intsAttribute("pads") {  // opset < 11
            pads = attribute
            if let v = node.attribute(named: "value") { value = v.f }
        } else {
            guard node.input.count >= 2, let values = padValues(node.input[1]) else { return nil }
            pads = values
            if node.input.count >= 3, !node.input[2].isEmpty {
                guard let constant = tensor(node.input[2]), let scalar = floatScalar(constant) else { return nil }
                value = scalar
            }
            if node.input.count >= 4, !node.input[3].isEmpty { return nil }  // axes: not folded
        }
        let rank = pads.count / 2
        guard pads.count % 2 == 0, rank >= 3, pads.allSatisfy({ $0 >= 0 }),
            pads[0] == 0, pads[1] == 0, pads[rank] == 0, pads[rank + 1] == 0
        else { return nil }
        let spatial = Array(pads[2..<rank]) + Array(pads[(rank + 2)...])
        guard spatial.contains(where: { $0 > 0 }) else { return nil }
        return PadSpec(mode: mode, value: value, spatial: spatial)
    }

    /// The reader's pads with the Pad's added, or nil when folding would change its output.
    private static func foldedPads(_ spec: PadSpec, into node: Onnx_NodeProto) -> [Int64]? {
        guard isDefault(node), (node.stringAttribute("auto_pad") ?? "NOTSET") == "NOTSET" else { return nil }
        let spatialRank = spec.spatial.count / 2
        let own = node.intsAttribute("pads") ?? Array(repeating: 0, count: spec.spatial.count)
        guard own.count == spec.spatial.count else { return nil }
        switch node.opType {
        case "Conv":
            guard spec.mode == "constant", spec.value == 0 else { return nil }
        case "MaxPool":
            guard node.output.count < 2 || node.output[1].isEmpty else { return nil }
            if spec.mode == "constant" {
                guard spec.value == -.infinity else { return nil }
            } else if spec.mode == "edge" {
                guard (node.intAttribute("ceil_mode") ?? 0) == 0,
                    (node.intsAttribute("dilations") ?? []).allSatisfy({ $0 == 1 }),
                    let kernel = node.intsAttribute("kernel_shape"), kernel.count == spatialRank,
                    (0..<spatialRank).allSatisfy({ kernel[$0] > spec.spatial[$0] + own[$0] })
                        && (0..<spatialRank).allSatisfy({ kernel[$0] > spec.spatial[spatialRank + $0] + own[spatialRank + $0] }),
                    own.allSatisfy({ $0 == 0 })
                else { return nil }
            } else {
                return nil
            }
        case "AveragePool":
            guard spec.mode == "constant", spec.value == 0, (node.intAttribute("count_include_pad") ?? 0) == 1,
                (node.intAttribute("ceil_mode") ?? 0) == 0
            else { return nil }
        default:
            return nil
        }
        let pads = zip(own, spec.spatial).map { $0 + $1 }
        if node.opType != "Conv" {
            // A pool's pads must stay smaller than its kernel (ONNX Runtime refuses the node otherwise).
            guard let kernel = node.intsAttribute("kernel_shape"), kernel.count == spatialRank,
                (0..<spatialRank).allSatisfy({ pads[$0] < kernel[$0] && pads[spatialRank + $0] < kernel[$0] })
            else { return nil }
        }
        return pads
    }

    private static func setPads(_ node: inout Onnx_NodeProto, _ pads: [Int64]) {
        if let a = node.attribute.firstIndex(where: { $0.name == "pads" }) {
            node.attribute[a].ints = pads
            return
        }
        var attribute = Onnx_AttributeProto()
        attribute.name = "pads"
        attribute.type = .ints
        attribute.ints = pads
        node.attribute.append(attribute)
    }

    /// The single FLOAT value of a scalar or one-element tensor.
    private static func floatScalar(_ tensor: Onnx_TensorProto) -> Float? {
        guard tensor.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue),
            tensor.dims.reduce(1, *) == 1
        else { return nil }
        if tensor.hasRawData {
            guard tensor.rawData.count == 4 else { return nil }
            return tensor.rawData.withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        }
        return tensor.floatData.first
    }

    /// Names a subgraph reads that it does not define (read from the outer scope).
    private static func outerReads(_ graph: Onnx_GraphProto) -> Set<String> {
        var defined = Set(graph.input.map(\.name)).union(graph.initializer.map(\.name))
        var reads = Set<String>()
        for node in graph.node {
            for input in node.input where !input.isEmpty && !defined.contains(input) { reads.insert(input) }
            for body in node.subgraphs { reads.formUnion(outerReads(body).subtracting(defined)) }
            defined.formUnion(node.output)
        }
        return reads
    }

    private static func isDefault(_ node: Onnx_NodeProto) -> Bool { ONNXWeightLayouts.isDefaultDomain(node.domain) }
}
