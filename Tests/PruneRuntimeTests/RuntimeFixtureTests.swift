import Foundation
import ONNXProto
import PruneCore
import PruneTestSupport
import Testing

import PruneRuntime

/// The interpreter against ONNX Runtime's recorded outputs on small graphs the ONNX test data does not cover:
/// Resize coordinate modes, Pad modes with axes and cropping, ConvTranspose geometries, If/Loop reading outer-scope
/// values, LSTM variants, variadic Max/Min/Sum/Mean. `Tests/PruneRuntimeFixtures/make_runtime_fixtures.py` wrote
/// them (each folder in the layout of ONNX's backend node tests).
@Suite("Runtime fixtures recorded from ONNX Runtime")
struct RuntimeFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PruneRuntimeFixtures")

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { !$0.hasSuffix(".py") }.sorted()
    }()

    @Test("the fixtures are present")
    func present() {
        #expect(Self.cases.count >= 50, "expected the recorded fixtures under \(Self.root.path)")
    }

    @Test("the interpreter matches ONNX Runtime within 1e-5", arguments: cases)
    func matches(_ name: String) {
        switch ConformanceTests.runCase(Self.root.appendingPathComponent(name), rtol: 1e-5, atol: 1e-5) {
        case .passed: break
        case .skipped(let reason): Issue.record("\(name) was refused: \(reason)")
        case .failed(let reason): Issue.record("\(name): \(reason)")
        }
    }

    @Test("an input declared with dim_value -1 or 0 is dynamic on that axis")
    func dynamicDeclaredDimensions() throws {
        var builder = GraphBuilder()
        builder.input("x")
        var shape = Onnx_TensorShapeProto()
        for value: Int64 in [-1, 3, 0] {
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = value
            shape.dim.append(dim)
        }
        builder.model.graph.input[0].type.tensorType.shape = shape
        builder.node("Relu", ["x"], ["y"])
        builder.output("y")
        let graph = try builder.graph()
        let dims = try #require(graph.inputDeclarations.first?.dimensions)
        #expect(dims == [.unknown, .fixed(3), .unknown])
        #expect(dims[0].accepts(7) && dims[2].accepts(5) && !dims[1].accepts(4))
        let y = try Interpreter(graph: graph).run(["x": RuntimeTensor(shape: [2, 3, 1], floats: [-1, 2, -3, 4, -5, 6])])["y"]
        #expect(y?.floatValues() == [0, 2, 0, 4, 0, 6])
    }

    @Test("unimplemented Resize and LSTM settings are refused when the interpreter is built, naming the node")
    func refusals() throws {
        for (op, key, value) in [
            ("Resize", "antialias", Onnx_AttributeProto.with { $0.type = .int; $0.i = 1 }),
            ("Resize", "coordinate_transformation_mode", Onnx_AttributeProto.with { $0.type = .string; $0.s = Data("tf_crop_and_resize".utf8) }),
            ("Resize", "keep_aspect_ratio_policy", Onnx_AttributeProto.with { $0.type = .string; $0.s = Data("not_larger".utf8) }),
            ("LSTM", "layout", Onnx_AttributeProto.with { $0.type = .int; $0.i = 1 }),
        ] {
            var builder = GraphBuilder()
            builder.input("x")
            builder.node(op, ["x"], ["y"], name: "n")
            var attribute = value
            attribute.name = key
            builder.model.graph.node[0].attribute.append(attribute)
            builder.output("y")
            #expect {
                try Interpreter(graph: builder.graph())
            } throws: { error in
                let message = (error as? PruneError)?.message ?? ""
                return (error as? PruneError)?.kind == .unsupported && message.contains("node 'n'") && message.contains(key)
            }
        }
    }
}
