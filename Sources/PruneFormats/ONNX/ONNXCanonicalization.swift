import ONNXProto

/// Rewrites applied to an ONNX graph when it is opened, none of which changes an output: they put the model's
/// weights where analysis and pruning look for them.
///
/// - A `Constant` node of the main graph whose value is a floating-point tensor of rank ≥ 1 becomes an initializer
///   of the same name (PaddlePaddle's exporter, among others, stores every weight this way).
/// - An `Identity` node whose input is an initializer is bypassed: its readers read the initializer directly
///   (exporters write such chains when they de-duplicate equal initializers). Chains collapse fully.
///
/// - The same Constant weights inside subgraphs (If, Loop, Scan bodies) move to the main graph's initializers, read
///   from the outer scope (silero-vad keeps every weight inside its `If` branches).
///
/// - A constant `Pad` whose only reader is a Conv, MaxPool or AveragePool is folded into that node's `pads` where
///   the result is exactly the same (zeros into a Conv, −∞ or edge values into a MaxPool, zeros into an
///   AveragePool that counts its pads; `ONNXPadFolding` lists the conditions).
///
/// Nodes whose output is a graph output are kept, as are nodes outside the default domain. Subgraphs (If, Loop,
/// Scan bodies) that read a bypassed value from the outer scope are renamed too. The written file carries the
/// rewritten graph (`Docs/ONNX.md`).
package enum ONNXCanonicalization {
    /// What canonicalisation did, for notes.
    package struct Summary: Sendable, Equatable {
        /// Nothing done.
        package init() {}

        /// Constant nodes turned into initializers.
        package var promotedConstants = 0
        /// Identity nodes bypassed.
        package var bypassedIdentities = 0
        /// Constant weights moved out of subgraphs (If, Loop, Scan bodies) into the main graph's initializers.
        package var hoistedConstants = 0
        /// Constant `Pad` nodes folded into the Conv or pool that reads them.
        package var foldedPads = 0
    }

    /// Canonicalises `graph` in place; promoted initializers are appended to `graph.initializer`.
    ///
    /// - Parameter irVersion: the model's IR version; before IR 4 every initializer must also be a graph input, so
    ///   promoted ones are declared there too.
    package static func apply(to graph: inout Onnx_GraphProto, irVersion: Int64 = 8) -> Summary {
        var summary = Summary()
        let outputs = Set(graph.output.map(\.name))
        var initializers = Set(graph.initializer.map(\.name))
        var kept: [Onnx_NodeProto] = []
        kept.reserveCapacity(graph.node.count)
        for node in graph.node {
            if let tensor = promotable(node, outputs: outputs, initializers: initializers) {
                graph.initializer.append(tensor)
                initializers.insert(tensor.name)
                if irVersion < 4 { graph.input.append(declaration(of: tensor)) }
                summary.promotedConstants += 1
            } else {
                kept.append(node)
            }
        }
        var renames: [String: String] = [:]
        var remaining: [Onnx_NodeProto] = []
        remaining.reserveCapacity(kept.count)
        for node in kept {
            if ONNXWeightLayouts.isDefaultDomain(node.domain), node.opType == "Identity", node.input.count == 1,
                node.output.count == 1, !outputs.contains(node.output[0]), !initializers.contains(node.output[0])
            {
                let source = renames[node.input[0]] ?? node.input[0]
                if initializers.contains(source) {
                    renames[node.output[0]] = source
                    summary.bypassedIdentities += 1
                    continue
                }
            }
            remaining.append(node)
        }
        if !renames.isEmpty {
            for index in remaining.indices { rename(&remaining[index], renames) }
        }
        graph.node = remaining
        summary.foldedPads = ONNXPadFolding.apply(to: &graph)
        hoistSubgraphConstants(&graph, irVersion: irVersion, summary: &summary)
        return summary
    }

    /// Moves the floating-point Constant weights of subgraphs (silero-vad keeps every weight inside its `If`
    /// branches) into the main graph's initializers, which the subgraphs then read from the outer scope, as ONNX
    /// allows. A name another value already has gets a suffix, and the subgraph's reads follow the new name.
    private static func hoistSubgraphConstants(
        _ graph: inout Onnx_GraphProto, irVersion: Int64, summary: inout Summary
    ) {
        // How often each name is defined anywhere: a Constant's own output counts once, so a name defined only by
        // it keeps it; a name defined twice (the other branch of an If has the same) is renamed.
        var definitions: [String: Int] = [:]
        for name in graph.initializer.map(\.name) + graph.input.map(\.name) { definitions[name, default: 0] += 1 }
        for node in ONNXWeightLayouts.allNodes(of: graph) {
            for output in node.output where !output.isEmpty { definitions[output, default: 0] += 1 }
        }
        var taken = Set(definitions.keys)
        var hoisted: [Onnx_TensorProto] = []
        func visit(_ body: inout Onnx_GraphProto, owner: String) {
            let outputs = Set(body.output.map(\.name))
            let local = Set(body.initializer.map(\.name))
            var renames: [String: String] = [:]
            var kept: [Onnx_NodeProto] = []
            for node in body.node {
                guard var tensor = promotable(node, outputs: outputs, initializers: local) else {
                    kept.append(node)
                    continue
                }
                var name = tensor.name
                if (definitions[name] ?? 0) > 1 || hoisted.contains(where: { $0.name == name }) {
                    var suffix = 1
                    while taken.contains("\(tensor.name).\(owner).\(suffix)") { suffix += 1 }
                    name = "\(tensor.name).\(owner).\(suffix)"
                    renames[tensor.name] = name
                }
                taken.insert(name)
                tensor.name = name
                hoisted.append(tensor)
            }
            body.node = kept
            if !renames.isEmpty {
                for index in body.node.indices { rename(&body.node[index], renames) }
            }
            for index in body.node.indices {
                let owner = body.node[index].name.isEmpty ? body.node[index].opType : body.node[index].name
                body.node[index].updateSubgraphs { visit(&$0, owner: owner) }
            }
        }
        for index in graph.node.indices {
            let owner = graph.node[index].name.isEmpty ? graph.node[index].opType : graph.node[index].name
            graph.node[index].updateSubgraphs { visit(&$0, owner: owner) }
        }
        for tensor in hoisted {
            graph.initializer.append(tensor)
            if irVersion < 4 { graph.input.append(declaration(of: tensor)) }
        }
        summary.hoistedConstants += hoisted.count
    }

    /// The initializer a `Constant` node becomes, or nil when it stays a node.
    private static func promotable(
        _ node: Onnx_NodeProto, outputs: Set<String>, initializers: Set<String>
    ) -> Onnx_TensorProto? {
        guard ONNXWeightLayouts.isDefaultDomain(node.domain), node.opType == "Constant", node.output.count == 1,
            let name = node.output.first, !name.isEmpty, !outputs.contains(name), !initializers.contains(name),
            node.attribute.count == 1, let attribute = node.attribute.first, attribute.name == "value",
            attribute.hasT
        else { return nil }
        var tensor = attribute.t
        guard !tensor.dims.isEmpty, !tensor.hasSegment, floatingTypes.contains(tensor.dataType) else { return nil }
        tensor.name = name
        return tensor
    }

    /// A graph input declaring `tensor`'s element type and shape.
    private static func declaration(of tensor: Onnx_TensorProto) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = tensor.name
        info.type.tensorType.elemType = tensor.dataType
        info.type.tensorType.shape.dim = tensor.dims.map { extent in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = extent
            return dim
        }
        return info
    }

    /// FLOAT, FLOAT16, DOUBLE, BFLOAT16.
    package static let floatingTypes: Set<Int32> = [1, 10, 11, 16]

    /// Renames the inputs of `node`, and the outer-scope reads of its subgraphs, by `renames`.
    private static func rename(_ node: inout Onnx_NodeProto, _ renames: [String: String]) {
        for position in node.input.indices {
            if let target = renames[node.input[position]] { node.input[position] = target }
        }
        node.updateSubgraphs { renameOuterReads(&$0, renames) }
    }

    /// Renames reads of outer-scope values inside a subgraph, leaving names the subgraph defines itself alone.
    private static func renameOuterReads(_ graph: inout Onnx_GraphProto, _ renames: [String: String]) {
        var local = Set(graph.input.map(\.name)).union(graph.initializer.map(\.name))
        for node in graph.node { local.formUnion(node.output) }
        let outer = renames.filter { !local.contains($0.key) }
        guard !outer.isEmpty else { return }
        for index in graph.node.indices { rename(&graph.node[index], outer) }
        for index in graph.output.indices {
            if let target = outer[graph.output[index].name] { graph.output[index].name = target }
        }
    }
}
