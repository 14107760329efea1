import Foundation
import ONNXProto

/// Small ONNX models built with the generated proto types, written to disk for the tests.
///
/// Every model passes `onnx.checker.check_model(full_check=True)` and runs in ONNX Runtime (see
/// `ONNXRuntimeCheckTests`), so the shapes and types below are consistent, not just decodable.
enum TestModels {
    /// A dimension of a declared shape: a number or a symbol.
    enum Dim: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
        case value(Int64)
        case symbol(String)

        init(integerLiteral value: Int64) { self = .value(value) }
        init(stringLiteral value: String) { self = .symbol(value) }
    }

    static let float = Int32(Onnx_TensorProto.DataType.float.rawValue)

    /// Deterministic, varied values (no zeros, so masking is visible).
    static func values(_ count: Int, seed: Double) -> [Float] {
        (0..<count).map { index -> Float in
            let wave: Double = sin(Double(index) * 1.7 + seed) * 0.9
            let offset: Double = index % 2 == 0 ? 0.05 : -0.05
            return Float(wave + offset)
        }
    }

    /// A FLOAT initializer stored as `raw_data`, or in `float_data` when `raw` is false.
    static func floatTensor(_ name: String, _ shape: [Int], seed: Double, raw: Bool = true) -> Onnx_TensorProto {
        let data = values(shape.reduce(1, *), seed: seed)
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = float
        if raw {
            tensor.rawData = data.withUnsafeBytes { Data($0) }
        } else {
            tensor.floatData = data
        }
        return tensor
    }

    static func valueInfo(_ name: String, _ dims: [Dim], elementType: Int32 = float) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { dim in
            var d = Onnx_TensorShapeProto.Dimension()
            switch dim {
            case .value(let v): d.dimValue = v
            case .symbol(let s): d.dimParam = s
            }
            return d
        }
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elementType
        tensorType.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = value
        return attribute
    }

    static func intsAttribute(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values
        return attribute
    }

    static func node(
        _ op: String, _ inputs: [String], _ outputs: [String], name: String, _ attributes: [Onnx_AttributeProto] = []
    ) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.input = inputs
        node.output = outputs
        node.name = name
        node.attribute = attributes
        return node
    }

    static func opset(_ domain: String, _ version: Int64) -> Onnx_OperatorSetIdProto {
        var entry = Onnx_OperatorSetIdProto()
        entry.domain = domain
        entry.version = version
        return entry
    }

    static func model(_ graph: Onnx_GraphProto, opset version: Int64 = 17) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "PruneONNXTests"
        model.opsetImport = [opset("", version)]
        model.graph = graph
        return model
    }

    static func graph(
        _ name: String, nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto],
        initializers: [Onnx_TensorProto]
    ) -> Onnx_GraphProto {
        var graph = Onnx_GraphProto()
        graph.name = name
        graph.node = nodes
        graph.input = inputs
        graph.output = outputs
        graph.initializer = initializers
        return graph
    }

    /// The key and value of an unused field (number 1000, varint 42): protobuf keeps it as an unknown field.
    static let unknownFieldBytes: [UInt8] = [0xC0, 0x3E, 42]

    /// `message` re-decoded with ``unknownFieldBytes`` appended, so it carries an unknown field.
    static func withUnknownField(_ tensor: Onnx_TensorProto) throws -> Onnx_TensorProto {
        try Onnx_TensorProto(serializedBytes: (try tensor.serializedBytes() as [UInt8]) + unknownFieldBytes)
    }

    static func withUnknownField(_ node: Onnx_NodeProto) throws -> Onnx_NodeProto {
        try Onnx_NodeProto(serializedBytes: (try node.serializedBytes() as [UInt8]) + unknownFieldBytes)
    }

    static func withUnknownField(_ graph: Onnx_GraphProto) throws -> Onnx_GraphProto {
        try Onnx_GraphProto(serializedBytes: (try graph.serializedBytes() as [UInt8]) + unknownFieldBytes)
    }

    static func withUnknownField(_ model: Onnx_ModelProto) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: (try model.serializedBytes() as [UInt8]) + unknownFieldBytes)
    }

    /// x[batch,4] → Gemm(W1 [8,4], transB=1) → Relu → Gemm(W2 [8,3], transB=0, W2 in float_data) → y[batch,3].
    ///
    /// Carries everything a writer must preserve: doc strings, metadata_props, value_info, a model-local
    /// function, a second opset domain, and unknown fields on the model, graph, a node and an initializer.
    static func mlp() throws -> Onnx_ModelProto {
        var fc1 = node("Gemm", ["x", "W1", "B1"], ["h"], name: "fc1", [intAttribute("transB", 1)])
        fc1.docString = "first layer"
        fc1 = try withUnknownField(fc1)
        var graph = graph(
            "mlp",
            nodes: [
                fc1, node("Relu", ["h"], ["r"], name: "relu"),
                node("Gemm", ["r", "W2", "B2"], ["y"], name: "fc2"),
            ],
            inputs: [valueInfo("x", ["batch", 4])], outputs: [valueInfo("y", ["batch", 3])],
            initializers: [
                try withUnknownField(floatTensor("W1", [8, 4], seed: 1)), floatTensor("B1", [8], seed: 2),
                floatTensor("W2", [8, 3], seed: 3, raw: false), floatTensor("B2", [3], seed: 4),
            ])
        graph.valueInfo = [valueInfo("h", ["batch", 8])]
        graph.docString = "a two-layer perceptron"
        graph = try withUnknownField(graph)

        var function = Onnx_FunctionProto()
        function.name = "Twice"
        function.domain = "prunekit.test"
        function.input = ["X"]
        function.output = ["Y"]
        function.node = [node("Add", ["X", "X"], ["Y"], name: "twice")]
        function.opsetImport = [opset("", 17)]

        var model = model(graph)
        model.opsetImport.append(opset("prunekit.test", 1))
        model.functions = [function]
        model.docString = "test model"
        var author = Onnx_StringStringEntryProto()
        author.key = "author"
        author.value = "PruneONNXTests"
        model.metadataProps = [author]
        return try withUnknownField(model)
    }

    /// x[batch,2,5,4] → MatMul(W1 [4,3]) → Relu → MatMul(W2 [2,3,6], batched) → Add(B [6]) → y[batch,2,5,6].
    static func matMul() -> Onnx_ModelProto {
        model(
            graph(
                "matmul",
                nodes: [
                    node("MatMul", ["x", "W1"], ["a"], name: "mm1"), node("Relu", ["a"], ["r"], name: "relu"),
                    node("MatMul", ["r", "W2"], ["m"], name: "mm2"), node("Add", ["m", "B"], ["y"], name: "bias"),
                ],
                inputs: [valueInfo("x", ["batch", 2, 5, 4])], outputs: [valueInfo("y", ["batch", 2, 5, 6])],
                initializers: [
                    floatTensor("W1", [4, 3], seed: 5), floatTensor("W2", [2, 3, 6], seed: 6),
                    floatTensor("B", [6], seed: 7),
                ]), opset: 21)
    }

    /// x[batch,3,8,8] → Conv(W [4,3,3,3], pads 1) → BatchNormalization → Relu → MaxPool(2, stride 2)
    /// → GlobalAveragePool → Flatten → Gemm(W2 [2,4], transB=1) → y[batch,2].
    static func conv() -> Onnx_ModelProto {
        var variance = floatTensor("bn_var", [4], seed: 11)
        variance.rawData = values(4, seed: 11).map { abs($0) + 0.5 }.withUnsafeBytes { Data($0) }
        return model(
            graph(
                "conv",
                nodes: [
                    node("Conv", ["x", "W", "B"], ["c"], name: "conv", [intsAttribute("pads", [1, 1, 1, 1])]),
                    node(
                        "BatchNormalization", ["c", "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["n"], name: "bn"),
                    node("Relu", ["n"], ["r"], name: "relu"),
                    node(
                        "MaxPool", ["r"], ["p"], name: "pool",
                        [intsAttribute("kernel_shape", [2, 2]), intsAttribute("strides", [2, 2])]),
                    node("GlobalAveragePool", ["p"], ["g"], name: "gap"),
                    node("Flatten", ["g"], ["f"], name: "flatten"),
                    node("Gemm", ["f", "W2", "B2"], ["y"], name: "fc", [intAttribute("transB", 1)]),
                ],
                inputs: [valueInfo("x", ["batch", 3, 8, 8])], outputs: [valueInfo("y", ["batch", 2])],
                initializers: [
                    floatTensor("W", [4, 3, 3, 3], seed: 8), floatTensor("B", [4], seed: 9),
                    floatTensor("bn_scale", [4], seed: 10), floatTensor("bn_bias", [4], seed: 12),
                    floatTensor("bn_mean", [4], seed: 13), variance,
                    floatTensor("W2", [2, 4], seed: 14), floatTensor("B2", [2], seed: 15),
                ]), opset: 13)
    }

    /// x[batch,32] → Gemm(W [64,32] in float_data, transB=1) → y[batch,64]: one tensor over 1 KiB, one under.
    static func wide() -> Onnx_ModelProto {
        model(
            graph(
                "wide",
                nodes: [node("Gemm", ["x", "W", "B"], ["y"], name: "fc", [intAttribute("transB", 1)])],
                inputs: [valueInfo("x", ["batch", 32])], outputs: [valueInfo("y", ["batch", 64])],
                initializers: [floatTensor("W", [64, 32], seed: 1, raw: false), floatTensor("B", [64], seed: 2)]))
    }

    /// The MLP with W1 and W2 in the side file ``sideName`` (W1 at offset 0, W2 at 192 after padding; B1, B2
    /// inline).
    ///
    /// - Returns: the model and the side file's bytes.
    static func external() throws -> (Onnx_ModelProto, [UInt8]) {
        var model = try mlp()
        var side: [UInt8] = []
        for index in model.graph.initializer.indices where ["W1", "W2"].contains(model.graph.initializer[index].name) {
            var tensor = model.graph.initializer[index]
            let bytes: [UInt8] =
                tensor.hasRawData ? Array(tensor.rawData) : tensor.floatData.withUnsafeBytes { Array($0) }
            let offset = side.isEmpty ? 0 : 192
            side += [UInt8](repeating: 0, count: offset - side.count)
            side += bytes
            tensor.clearRawData()
            tensor.floatData = []
            tensor.dataLocation = .external
            tensor.externalData = [
                entry("location", sideName), entry("offset", String(offset)), entry("length", String(bytes.count)),
            ]
            model.graph.initializer[index] = tensor
        }
        return (model, side)
    }

    static let sideName = "weights.bin"

    static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var entry = Onnx_StringStringEntryProto()
        entry.key = key
        entry.value = value
        return entry
    }

    /// Serializes `model` to `url`.
    static func write(_ model: Onnx_ModelProto, to url: URL) throws {
        let bytes: [UInt8] = try model.serializedBytes()
        try Data(bytes).write(to: url)
    }

    /// Decodes the file at `url`, whole, with SwiftProtobuf: the reference the writer's output is compared with.
    static func decode(_ url: URL) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: Data(contentsOf: url))
    }
}

/// A directory under the system's temporary directory, removed with its contents when released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("prunekit-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}
