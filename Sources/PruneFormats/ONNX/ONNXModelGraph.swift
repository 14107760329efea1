import ONNXProto
import PruneCore

/// The graph of an ONNX model as it travels with the model's parameters: nodes, attributes, `value_info`, graph
/// inputs and outputs.
///
/// ``ONNXDocument`` sets it on the ``Model`` it opens. A structural rewriter replaces it with an edited copy (new
/// attributes, shapes, constants), and ``ONNXDocument/write(_:to:metadata:overwrite:)`` writes its nodes and
/// shapes in place of the graph it read. Initializer payloads are not held here: they are the model's parameters
/// (the messages carry names and dims only, which the writer takes from the parameters).
public struct ONNXModelGraph: ModelGraph {
    /// The graph message; its initializers have no `raw_data` (their bytes live in the parameters).
    package var proto: Onnx_GraphProto {
        didSet { facts = ModelGraphFacts() }
    }
    /// The model's default-domain opset (0 when not declared); rewriters choose attribute or input forms by it.
    package var opset: Int {
        didSet { facts = ModelGraphFacts() }
    }
    /// What has been derived from this graph once (the structure analysis), shared by every copy of the model
    /// that still carries this graph; a changed graph starts empty.
    package private(set) var facts = ModelGraphFacts()

    /// Wraps `proto`, written for default-domain opset `opset`.
    package init(proto: Onnx_GraphProto, opset: Int = 0) {
        self.proto = proto
        self.opset = opset
    }
}
