import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PrunePluginHost
import PruneRecipes
import PruneRuntime

/// libFuzzer's entry point: runs the target `PRUNE_FUZZ_TARGET` names on one input. Every error PruneKit
/// throws is an expected outcome; a crash, a sanitizer report or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    FuzzTargets.run(FuzzTargets.selected, bytes)
    return 0
}

/// One fuzz target per parser (see `Scripts/fuzz`).
enum FuzzTargets {
    /// The target named by `PRUNE_FUZZ_TARGET`.
    nonisolated(unsafe) static let selected: String = ProcessInfo.processInfo.environment["PRUNE_FUZZ_TARGET"] ?? ""

    static func run(_ target: String, _ bytes: UnsafeRawBufferPointer) {
        switch target {
        case "safetensors": _ = try? SafetensorsHeader(file: bytes, path: "fuzz.safetensors")
        case "onnx": onnx(bytes)
        case "interpreter": interpreter(bytes)
        case "recipe": _ = try? Recipe(yaml: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        case "plugin-file": _ = try? ELFCheck.validate(bytes, path: "fuzz.so")
        default: fatalError("PRUNE_FUZZ_TARGET must be safetensors, onnx, interpreter, recipe or plugin-file")
        }
    }

    /// A per-process scratch file for readers that take a path.
    static let scratch: URL = FileManager.default.temporaryDirectory.appending(path: "prune-fuzz-\(getpid()).onnx")

    /// The ONNX document reader and the runtime's graph decoder on the same bytes.
    static func onnx(_ bytes: UnsafeRawBufferPointer) {
        guard (try? Data(bytes).write(to: scratch)) != nil else { return }
        _ = try? ONNXDocument(url: scratch)
        _ = try? ONNXGraph(contentsOf: scratch)
    }

    /// A structure-aware graph: the input picks an op from the runtime's table, its attributes, and small
    /// int64 or float initializers, then the interpreter builds and runs it.
    static func interpreter(_ bytes: UnsafeRawBufferPointer) {
        var reader = ByteReader(bytes)
        let ops = [
            "ConstantOfShape", "Range", "Reshape", "Expand", "Tile", "MaxPool", "AveragePool", "Conv", "Add", "Mul",
            "MatMul", "Gemm", "Concat", "Slice", "Gather", "Transpose", "Pad", "Resize", "Squeeze", "Unsqueeze",
            "Flatten", "ReduceMean", "Softmax", "Cast", "Where", "Split", "GlobalAveragePool", "BatchNormalization",
        ]
        var model = Onnx_ModelProto()
        var opset = Onnx_OperatorSetIdProto()
        opset.version = Int64(reader.int(in: 1...21))
        model.opsetImport = [opset]
        model.irVersion = 8
        var node = Onnx_NodeProto()
        node.opType = ops[reader.int(in: 0...(ops.count - 1))]
        node.name = "fuzz"
        for index in 0..<reader.int(in: 0...4) {
            var tensor = Onnx_TensorProto()
            tensor.name = "in\(index)"
            let rank = reader.int(in: 0...4)
            tensor.dims = (0..<rank).map { _ in Int64(reader.extent()) }
            // Initializers stay small (the harness must not trap itself); huge shapes come from values instead.
            guard let count = Tensor.checkedElementCount(tensor.dims.map { Int($0) }), count <= 4096 else { continue }
            let elements = Int64(count)
            if reader.bool() {
                tensor.dataType = 7
                tensor.int64Data = (0..<elements).map { _ in reader.interestingInt() }
            } else {
                tensor.dataType = 1
                tensor.floatData = (0..<elements).map { _ in Float(reader.interestingInt()) / 4 }
            }
            model.graph.initializer.append(tensor)
            node.input.append(tensor.name)
        }
        for name in ["axis", "axes", "pads", "kernel_shape", "strides", "dilations", "perm", "shape", "group"]
        where reader.bool() {
            var attribute = Onnx_AttributeProto()
            attribute.name = name
            if reader.bool() {
                attribute.type = .int
                attribute.i = reader.interestingInt()
            } else {
                attribute.type = .ints
                attribute.ints = (0..<reader.int(in: 0...6)).map { _ in reader.interestingInt() }
            }
            node.attribute.append(attribute)
        }
        node.output = ["y"]
        model.graph.node = [node]
        var output = Onnx_ValueInfoProto()
        output.name = "y"
        model.graph.output = [output]
        guard let graph = try? ONNXGraph(model: model), let interpreter = try? Interpreter(graph: graph) else { return }
        _ = try? interpreter.run([:])
    }
}

/// Reads choices from the fuzzer's bytes (zeros once they run out).
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func bool() -> Bool { byte() & 1 == 1 }
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(byte()) % (range.count)
    }
    /// Small extents mostly, with 0 and a few large ones.
    mutating func extent() -> Int { [0, 1, 2, 3, 4, 5, 8, 16, 1 << 20, 1 << 40][int(in: 0...9)] }
    /// Values around edges: 0, ±1, small, huge, extremes.
    mutating func interestingInt() -> Int64 {
        let table: [Int64] = [0, 1, -1, 2, 3, -2, 4, 7, 16, 1 << 31, 1 << 62, Int64.max, Int64.min, -(1 << 40)]
        return table[int(in: 0...(table.count - 1))]
    }
}

/// libFuzzer's driver, for the entry point below.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// SwiftPM links an executable's `main` to `<module>_main`; this one hands control to libFuzzer.
@_cdecl("prune_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { fuzzOneInput($0, $1) }
}
