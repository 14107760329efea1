import ONNXProto

/// Typed access to a node's attributes, by name.
extension Onnx_NodeProto {
    /// The attribute called `name`, if any.
    func attribute(named name: String) -> Onnx_AttributeProto? {
        attribute.first { $0.name == name }
    }

    /// An INT attribute.
    func intAttribute(_ name: String) -> Int64? {
        attribute(named: name).flatMap { $0.hasI ? $0.i : nil }
    }

    /// An INTS attribute (nil when absent; an attribute that is present but empty gives `[]`).
    func intsAttribute(_ name: String) -> [Int64]? {
        attribute(named: name).map(\.ints)
    }

    /// A STRING attribute, decoded as UTF-8.
    func stringAttribute(_ name: String) -> String? {
        attribute(named: name).flatMap { $0.hasS ? String(decoding: $0.s, as: UTF8.self) : nil }
    }
}
