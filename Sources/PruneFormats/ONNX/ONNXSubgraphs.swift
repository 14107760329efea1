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
