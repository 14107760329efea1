import ONNXProto

extension Onnx_NodeProto {
    /// The node's subgraphs (If branches, Loop and Scan bodies): its `graph` and `graphs` attributes, in order.
    package var subgraphs: [Onnx_GraphProto] {
        attribute.flatMap { ($0.hasG ? [$0.g] : []) + $0.graphs }
    }

    /// Calls `body` on each of the node's subgraphs, in place.
    package mutating func updateSubgraphs(_ body: (inout Onnx_GraphProto) -> Void) {
        for position in attribute.indices {
            if attribute[position].hasG { body(&attribute[position].g) }
            for inner in attribute[position].graphs.indices { body(&attribute[position].graphs[inner]) }
        }
    }
}

extension Onnx_GraphProto {
    /// The names this graph reads from its enclosing scope, in first-read order: inputs of its nodes (and of the
    /// nodes of its own subgraphs, at any depth) and its outputs, less the names defined inside it (its inputs,
    /// initializers and every node output at any depth).
    package var outerScopeReads: [String] {
        var defined = Set(input.map(\.name)).union(initializer.map(\.name))
        var reads: [String] = []
        var seen = Set<String>()
        func collectDefinitions(_ graph: Onnx_GraphProto) {
            for node in graph.node {
                defined.formUnion(node.output)
                for body in node.subgraphs {
                    defined.formUnion(body.input.map(\.name))
                    defined.formUnion(body.initializer.map(\.name))
                    collectDefinitions(body)
                }
            }
        }
        func collectReads(_ graph: Onnx_GraphProto) {
            for node in graph.node {
                for name in node.input where !name.isEmpty && seen.insert(name).inserted { reads.append(name) }
                for body in node.subgraphs {
                    collectReads(body)
                    for name in body.output.map(\.name) where seen.insert(name).inserted { reads.append(name) }
                }
            }
        }
        collectDefinitions(self)
        collectReads(self)
        for name in output.map(\.name) where seen.insert(name).inserted { reads.append(name) }
        return reads.filter { !defined.contains($0) }
    }
}

/// Where a subgraph sits inside a graph: for each level, the node, its attribute and, for a `graphs` attribute,
/// the element (nil for a `graph` attribute such as an If branch).
package struct ONNXSubgraphPath: Hashable, Sendable {
    /// One level of nesting.
    package struct Step: Hashable, Sendable {
        /// The node's position in its graph.
        package var node: Int
        /// The attribute's position in the node.
        package var attribute: Int
        /// The element of a `graphs` attribute, or nil for a `graph` attribute.
        package var element: Int?

        /// A step to the subgraph held by attribute `attribute` of node `node`.
        package init(node: Int, attribute: Int, element: Int? = nil) {
            self.node = node
            self.attribute = attribute
            self.element = element
        }
    }

    /// The levels, outermost first.
    package var steps: [Step]

    /// A path of `steps`.
    package init(_ steps: [Step]) { self.steps = steps }

    /// The subgraph at this path inside `graph`.
    package func subgraph(in graph: Onnx_GraphProto) -> Onnx_GraphProto {
        var current = graph
        for step in steps {
            let attribute = current.node[step.node].attribute[step.attribute]
            current = step.element.map { attribute.graphs[$0] } ?? attribute.g
        }
        return current
    }

    /// Replaces the subgraph at this path inside `graph` with `replacement`.
    package func replace(in graph: inout Onnx_GraphProto, with replacement: Onnx_GraphProto) {
        func descend(_ graph: inout Onnx_GraphProto, _ remaining: ArraySlice<Step>) {
            guard let step = remaining.first else {
                graph = replacement
                return
            }
            if let element = step.element {
                descend(&graph.node[step.node].attribute[step.attribute].graphs[element], remaining.dropFirst())
            } else {
                descend(&graph.node[step.node].attribute[step.attribute].g, remaining.dropFirst())
            }
        }
        descend(&graph, steps[...])
    }
}
