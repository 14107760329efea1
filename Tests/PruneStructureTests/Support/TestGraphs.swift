import PruneTestSupport
import ONNXProto

/// The graphs the structure tests analyse and prune; each reads `input` and writes `logits`.
enum TestGraphs {
    /// Conv → BN → Relu → Conv → Relu → MaxPool → Flatten (or an equivalent Reshape) → Gemm → Relu → Gemm.
    static func cnn(reshape: Bool = false) -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "cnn")
        b.input("input", [nil, 3, 6, 6])
        b.conv("input", "c1", name: "conv1", in: 3, out: 4)
        b.batchNorm("c1", "b1", name: "bn1", channels: 4)
        b.node("Relu", ["b1"], ["r1"], name: "relu1")
        b.conv("r1", "c2", name: "conv2", in: 4, out: 6)
        b.node("Relu", ["c2"], ["r2"], name: "relu2")
        b.node("MaxPool", ["r2"], ["p"], name: "pool", lists: ["kernel_shape": [2, 2], "strides": [2, 2]])
        if reshape {
            b.int64s("flat_shape", [0, 54])
            b.node("Reshape", ["p", "flat_shape"], ["f"], name: "flatten")
        } else {
            b.node("Flatten", ["p"], ["f"], name: "flatten", ints: ["axis": 1])
        }
        b.linear("f", "h", name: "fc1", in: 54, out: 8)
        b.node("Relu", ["h"], ["hr"], name: "relu3")
        b.linear("hr", "logits", name: "fc2", in: 8, out: 5)
        b.graph.valueInfo = [LayerGraphBuilder.valueInfo("c2", [nil, 6, 6, 6]), LayerGraphBuilder.valueInfo("f", [nil, 54])]
        b.output("logits", [nil, 5])
        return b.model
    }

    /// A ResNet-style block: the skip connection adds conv0's activation to conv2's output.
    static func residual() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "residual")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c0", name: "conv0", in: 3, out: 4)
        b.node("Relu", ["c0"], ["a"], name: "relu0")
        b.conv("a", "c1", name: "conv1", in: 4, out: 6)
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        b.conv("r1", "c2", name: "conv2", in: 6, out: 4)
        b.node("Add", ["c2", "a"], ["s"], name: "add")
        b.node("Relu", ["s"], ["r2"], name: "relu2")
        b.conv("r2", "c3", name: "conv3", in: 4, out: 3)
        b.node("GlobalAveragePool", ["c3"], ["g"], name: "gap")
        b.node("Flatten", ["g"], ["logits"], name: "flatten")
        b.output("logits", [nil, 3])
        return b.model
    }

    /// Two branches concatenated on the channel axis, then a per-channel scale and a Conv.
    static func concat() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "concat")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "a", name: "convA", in: 3, out: 3)
        b.conv("input", "b", name: "convB", in: 3, out: 4, k: 1)
        b.node("Concat", ["a", "b"], ["cat"], name: "concat", ints: ["axis": 1])
        b.weight("scale", [7, 1, 1])
        b.node("Mul", ["cat", "scale"], ["scaled"], name: "mul")
        b.node("Relu", ["scaled"], ["r"], name: "relu")
        b.conv("r", "c", name: "convC", in: 7, out: 2)
        b.node("Flatten", ["c"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }

    /// Conv → Relu → depthwise Conv (multiplier 2) → Relu → Conv.
    static func depthwise() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "depthwise")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 4)
        b.node("Relu", ["c1"], ["r1"], name: "relu1")
        b.conv("r1", "d", name: "dw", in: 4, out: 8, group: 4)
        b.node("Relu", ["d"], ["r2"], name: "relu2")
        b.conv("r2", "c2", name: "conv2", in: 8, out: 2)
        b.node("Flatten", ["c2"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }

    /// MatMul + Add (a bias) → Relu → MatMul: the MLP form of `torch.onnx` exports without Gemm.
    static func matMulMLP() -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "matmul")
        b.input("input", [nil, 6])
        b.weight("w1", [6, 8])
        b.weight("b1", [8])
        b.node("MatMul", ["input", "w1"], ["m1"], name: "mm1")
        b.node("Add", ["m1", "b1"], ["h"], name: "bias1")
        b.node("Relu", ["h"], ["r"], name: "relu")
        b.weight("w2", [8, 3])
        b.node("MatMul", ["r", "w2"], ["logits"], name: "mm2")
        b.output("logits", [nil, 3])
        return b.model
    }

    /// conv1's channels pass through an operator without a rule (`op`, in `domain`) before conv2.
    static func blocked(op: String = "Softmax", domain: String = "") -> Onnx_ModelProto {
        var b = LayerGraphBuilder(name: "blocked")
        b.input("input", [nil, 3, 5, 5])
        b.conv("input", "c1", name: "conv1", in: 3, out: 4)
        b.node(op, ["c1"], ["s"], name: "mystery", ints: domain.isEmpty ? ["axis": 1] : [:], domain: domain)
        b.conv("s", "c2", name: "conv2", in: 4, out: 6)
        b.node("Relu", ["c2"], ["r"], name: "relu")
        b.conv("r", "c3", name: "conv3", in: 6, out: 2)
        b.node("Flatten", ["c3"], ["logits"], name: "flatten")
        b.output("logits", [nil, 50])
        return b.model
    }
}
