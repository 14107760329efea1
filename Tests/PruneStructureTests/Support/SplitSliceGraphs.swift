import PruneTestSupport
import ONNXProto

/// Graphs with Split, Slice and grouped Conv on the channel axis; each reads `input` and writes `logits`.
extension TestGraphs {
    /// conv1 (6 channels) → Split into [2, 4] (sizes from an initializer) or 3 + 3 (no sizes) → one Conv per part
    /// → Add → Relu → conv4 → Flatten.
    static func split(equal: Bool = false) -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "split")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 6)
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        if equal {
            b.node("Split", ["r1"], ["p0", "p1"], name: "split", ints: ["axis": 1])
        } else {
            b.int64s("split_sizes", [2, 4])
            b.node("Split", ["r1", "split_sizes"], ["p0", "p1"], name: "split", ints: ["axis": 1])
        }
        b.conv("p0", "a", name: "conv2", in: equal ? 3 : 2, out: 3)
        b.conv("p1", "c", name: "conv3", in: equal ? 3 : 4, out: 3, k: 1)
        b.node("Add", ["a", "c"], ["s"], name: "add")
        b.node("Relu", ["s"], ["r2"], name: "relu2")
        b.conv("r2", "c4", name: "conv4", in: 3, out: 2)
        b.node("Flatten", ["c4"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }

    /// conv1 (8 channels) → Relu → Slice channels [2, −2) (constant inputs) → conv2 → Flatten.
    static func slice() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "slice")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 8)
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        b.int64s("starts", [2])
        b.int64s("ends", [-2])
        b.int64s("axes", [1])
        b.node("Slice", ["r1", "starts", "ends", "axes"], ["sl"], name: "slice")
        b.conv("sl", "c2", name: "conv2", in: 4, out: 2)
        b.node("Flatten", ["c2"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }

    /// conv1 → Relu → grouped Conv (8 → 8, group 2) → Relu → conv3 → Flatten.
    static func groupedConv(out: Int = 8) -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "grouped")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 8)
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        b.conv("r1", "g", name: "gconv", in: 8, out: out, group: 2)
        b.node("Relu", ["g"], ["r2"], name: "relu2")
        b.conv("r2", "c3", name: "conv3", in: out, out: 2)
        b.node("Flatten", ["c3"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }
}
