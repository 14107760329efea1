import Foundation
import ONNXProto
import PruneCore
import PruneTestSupport
import Testing

@testable import PruneRuntime

/// Crafted models from issue 12: each must give a one-line error naming the file or node, never a crash,
/// a read outside the model's folder, or a huge allocation.
@Suite("Hostile inputs to the runtime")
struct HostileInputTests {
    /// A folder holding `secret.bin` beside a `model/` folder, removed when the test ends.
    final class Folder {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appending(path: "prunekit-hostile-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url.appending(path: "model"), withIntermediateDirectories: true)
            try Data(repeating: 7, count: 64).write(to: url.appending(path: "secret.bin"))
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        var model: URL { url.appending(path: "model/model.onnx") }
    }

    /// A model whose only initializer `w` [2] float stores its data externally with `entries`.
    static func externalModel(_ entries: [String: String]) -> Onnx_ModelProto {
        var builder = GraphBuilder()
        var tensor = Onnx_TensorProto()
        tensor.name = "w"
        tensor.dims = [2]
        tensor.dataType = 1
        tensor.dataLocation = .external
        tensor.externalData = entries.sorted(by: { $0.key < $1.key }).map {
            var entry = Onnx_StringStringEntryProto()
            entry.key = $0.key
            entry.value = $0.value
            return entry
        }
        builder.model.graph.initializer.append(tensor)
        builder.node("Identity", ["w"], ["y"])
        builder.output("y")
        return builder.model
    }

    /// The message of the `PruneError` that reading `model` from `folder` throws.
    static func loadError(_ model: Onnx_ModelProto, in folder: Folder) throws -> String {
        try model.serializedData().write(to: folder.model)
        do {
            _ = try ONNXGraph(contentsOf: folder.model)
        } catch let error as PruneError {
            return error.message
        }
        Issue.record("the model loaded")
        return ""
    }

    @Test("external data outside the model's folder is refused by the runtime's loader")
    func externalDataConfined() throws {
        let folder = try Folder()
        let climbing = try Self.loadError(Self.externalModel(["location": "../secret.bin"]), in: folder)
        #expect(climbing.contains("model.onnx") && climbing.contains("leaves the model's directory"))
        let absolute = try Self.loadError(Self.externalModel(["location": "/etc/passwd"]), in: folder)
        #expect(absolute.contains("is an absolute path"))
    }

    @Test("a non-numeric or huge external-data offset is refused, not taken as 0")
    func externalOffsetChecked() throws {
        let folder = try Folder()
        try Data(repeating: 0, count: 8).write(to: folder.url.appending(path: "model/w.bin"))
        let text = try Self.loadError(Self.externalModel(["location": "w.bin", "offset": "abc"]), in: folder)
        #expect(text.contains("offset 'abc' is not a non-negative integer"))
        let huge = try Self.loadError(
            Self.externalModel(["location": "w.bin", "offset": "9223372036854775807"]), in: folder)
        #expect(huge.contains("lies past its end"))
        // Within range, the same loader reads the values.
        try Data([0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]).write(to: folder.url.appending(path: "model/w.bin"))
        try Self.externalModel(["location": "w.bin"]).serializedData().write(to: folder.model)
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: folder.model))
        #expect(try interpreter.run([:])["y"]?.floatValues() == [1, 2])
    }

    @Test("an external-data FIFO is refused at once instead of blocking")
    func externalFIFORefused() throws {
        let folder = try Folder()
        #expect(mkfifo(folder.url.appending(path: "model/w.bin").path, 0o600) == 0)
        let text = try Self.loadError(Self.externalModel(["location": "w.bin"]), in: folder)
        #expect(text.contains("not a regular file (a FIFO)"))
    }

    @Test("raw_data shorter than the dims need is refused before anything is allocated")
    func rawDataCheckedBeforeAllocation() throws {
        var tensor = Onnx_TensorProto()
        tensor.name = "big"
        tensor.dims = [6, 8, 1_000_000_000]
        tensor.dataType = 1
        tensor.rawData = Data(count: 192)
        #expect(throws: PruneError.self) { try RuntimeTensor(proto: tensor) }
        // A Constant of 10^12 elements with one value fails on its size, not in the allocator.
        var constant = Onnx_TensorProto()
        constant.name = "c"
        constant.dims = [1_000_000_000_000]
        constant.dataType = 1
        constant.floatData = [1]
        #expect(throws: PruneError.self) { try RuntimeTensor(proto: constant) }
        tensor.dims = [Int64.max, 2]
        #expect(throws: PruneError.self) { try RuntimeTensor(proto: tensor) }
    }

    /// The message of the error running a one-node graph with the given int64 or float initializers throws.
    static func runError(
        _ op: String, inputs: [(String, [Int], [Int64])] = [], floats: [(String, [Int], [Float])] = [],
        ints: [String: [Int]] = [:], feed: [String: RuntimeTensor] = [:]
    ) throws -> String {
        var builder = GraphBuilder()
        for (name, shape, values) in inputs {
            var tensor = Onnx_TensorProto()
            tensor.name = name
            tensor.dims = shape.map { Int64($0) }
            tensor.dataType = 7
            tensor.int64Data = values
            builder.model.graph.initializer.append(tensor)
        }
        for (name, shape, values) in floats { builder.initializer(name, shape: shape, floats: values) }
        for name in feed.keys.sorted() { builder.input(name) }
        builder.node(op, feed.keys.sorted() + inputs.map(\.0) + floats.map(\.0), ["y"], name: "hostile", ints: ints)
        builder.output("y")
        do {
            _ = try Interpreter(graph: builder.graph()).run(feed)
        } catch let error as PruneError {
            #expect(error.message.hasPrefix("node 'hostile' (op \(op))"))
            return error.message
        }
        Issue.record("\(op) ran")
        return ""
    }

    @Test("ConstantOfShape of [2^62] or an int64-max extent is an error, not a heap overflow")
    func constantOfShapeChecked() throws {
        let huge = try Self.runError("ConstantOfShape", inputs: [("s", [1], [1 << 62])])
        #expect(huge.contains("64-bit") || huge.contains("limit"))
        let maximum = try Self.runError("ConstantOfShape", inputs: [("s", [2], [Int64.max, 2])])
        #expect(maximum.contains("64-bit"))
    }

    @Test("Range with delta 0 is an error for floats and integers")
    func rangeDeltaZero() throws {
        let floats = try Self.runError("Range", floats: [("s", [], [0]), ("l", [], [4]), ("d", [], [0])])
        #expect(floats.contains("delta is 0"))
        let ints = try Self.runError("Range", inputs: [("s", [], [0]), ("l", [], [4]), ("d", [], [0])])
        #expect(ints.contains("delta is 0"))
        let long = try Self.runError("Range", inputs: [("s", [], [Int64.min]), ("l", [], [Int64.max]), ("d", [], [1])])
        #expect(long.contains("limit"))
    }

    @Test("Reshape to a shape whose product overflows is an error")
    func reshapeOverflow() throws {
        let text = try Self.runError(
            "Reshape", inputs: [("s", [3], [1 << 32, 1 << 32, -1])],
            feed: ["x": RuntimeTensor(shape: [2], floats: [1, 2])])
        #expect(text.contains("64-bit") || text.contains("cannot reshape"))
    }

    @Test("MaxPool with pads larger than the window is an error")
    func maxPoolPads() throws {
        let text = try Self.runError(
            "MaxPool", ints: ["kernel_shape": [2, 2], "pads": [9, 9, 9, 9]],
            feed: ["x": RuntimeTensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])])
        #expect(text.contains("must be smaller than kernel_shape"))
    }
}

@Suite("Runtime model checks shared with inspect")
struct RuntimeModelRuleTests {
    @Test("the runtime refuses opset 0 and negative opsets, as inspect does")
    func invalidOpsetRefused() throws {
        for version in [Int64(0), -3] {
            var builder = GraphBuilder()
            builder.model.opsetImport[0].version = version
            builder.node("Identity", ["x"], ["y"])
            builder.input("x")
            builder.output("y")
            let error = #expect(throws: PruneError.self) { try builder.graph() }
            #expect(error?.message == "model: opset_import for domain '' has version \(version)")
        }
    }
}

@Suite("Fuzzer findings")
struct FuzzFindingTests {
    @Test("Gather on scalar data is an error (the interpreter fuzz target's first crash: an index trap)")
    func gatherOnScalar() throws {
        let text = try HostileInputTests.runError(
            "Gather", inputs: [("i", [], [0])], feed: ["d": RuntimeTensor(shape: [], floats: [1])])
        #expect(text.contains("Gather needs rank ≥ 1"))
    }
}

@Suite("Fuzzer findings, Split")
struct FuzzSplitFindingTests {
    @Test("Split on scalar data is an error, and huge split sizes cannot overflow their sum")
    func splitOnScalar() throws {
        let scalar = try HostileInputTests.runError("Split", feed: ["d": RuntimeTensor(shape: [], floats: [1])])
        #expect(scalar.contains("Split needs rank ≥ 1"))
        let huge = try HostileInputTests.runError(
            "Split", inputs: [("s", [2], [Int64.max, Int64.max])], feed: ["d": RuntimeTensor(shape: [2], floats: [1, 2])])
        #expect(huge.contains("does not divide extent 2"))
    }
}

@Suite("Fuzzer findings, axes on scalars")
struct FuzzScalarAxisFindingTests {
    @Test("an axis on a scalar is out of range for every op (Squeeze on a scalar read past its shape)")
    func axisOnScalar() throws {
        let scalar = ["d": RuntimeTensor(shape: [], floats: [1])]
        let squeeze = try HostileInputTests.runError("Squeeze", inputs: [("a", [1], [0])], feed: scalar)
        #expect(squeeze.contains("axis 0 is out of range for rank 0"))
        for op in ["Softmax", "ArgMax"] {
            let text = try HostileInputTests.runError(op, feed: scalar)
            #expect(text.contains("is out of range for rank 0"), "\(op): \(text)")
        }
    }
}

@Suite("Fuzzer findings, empty tensors with huge extents")
struct FuzzEmptyTensorFindingTests {
    /// Runs `op` on `x` (plus int64 initializers) and returns the output's shape.
    static func outputShape(
        _ op: String, x: RuntimeTensor, inputs: [(String, [Int], [Int64])] = [], axis: Int
    ) throws -> [Int] {
        var builder = GraphBuilder()
        for (name, shape, values) in inputs {
            var tensor = Onnx_TensorProto()
            tensor.name = name
            tensor.dims = shape.map { Int64($0) }
            tensor.dataType = 7
            tensor.int64Data = values
            builder.model.graph.initializer.append(tensor)
        }
        builder.input("x")
        builder.node(op, ["x"] + inputs.map(\.0), op == "TopK" ? ["y", "indices"] : ["y"], name: "empty", int: ["axis": axis])
        builder.output("y")
        let outputs = try Interpreter(graph: builder.graph()).run(["x": x])
        return try #require(outputs["y"]).shape
    }

    @Test("ops over an axis return at once on an empty [2^40, 2, 0] tensor (Softmax walked 2^40 empty lines: a fuzz timeout)")
    func emptyWithHugeOuterExtent() throws {
        let huge = 1 << 40
        let x = RuntimeTensor(shape: [huge, 2, 0], floats: [])
        #expect(try Self.outputShape("Softmax", x: x, axis: 1) == [huge, 2, 0])
        #expect(try Self.outputShape("ArgMax", x: x, axis: 1) == [huge, 1, 0])
        #expect(try Self.outputShape("Concat", x: x, axis: 1) == [huge, 2, 0])
        #expect(try Self.outputShape("Gather", x: x, inputs: [("i", [1], [1])], axis: 1) == [huge, 1, 0])
        #expect(try Self.outputShape("TopK", x: x, inputs: [("k", [1], [1])], axis: 1) == [huge, 1, 0])
    }
}

@Suite("Fuzzer findings, outputs larger than their empty inputs")
struct FuzzHugeOutputFindingTests {
    @Test("a global pool, a reduction and LayerNorm of an empty [2^40, 16, 0] are refused by the budget, not allocated")
    func hugeOutputsOfEmptyInputs() throws {
        let feed = ["x": RuntimeTensor(shape: [1 << 40, 16, 0], floats: [])]
        let pool = try HostileInputTests.runError("GlobalMaxPool", feed: feed)
        #expect(pool.contains("[1099511627776, 16, 1]"), "\(pool)")
        let reduce = try HostileInputTests.runError("ReduceMean", ints: ["axes": [2]], feed: feed)
        #expect(reduce.contains("[1099511627776, 16, 1]"), "\(reduce)")
        let norm = try HostileInputTests.runError(
            "LayerNormalization", floats: [("scale", [0], [])], feed: feed)
        #expect(norm.contains("1099511627776"), "\(norm)")
    }
}

@Suite("Fuzzer findings, computed shapes over the budget")
struct FuzzComputedShapeBudgetTests {
    @Test("Tile to 64 GiB is refused by the memory budget (its checked path only checked for overflow)")
    func tileOverBudget() throws {
        let text = try HostileInputTests.runError(
            "Tile", inputs: [("r", [2], [1 << 17, 1 << 17])], feed: ["x": RuntimeTensor(shape: [1, 1 << 20], floats: [Float](repeating: 1, count: 1 << 20))])
        #expect(text.contains("limit for one tensor") || text.contains("64-bit"), "\(text)")
    }
}
