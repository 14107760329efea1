import Foundation
import Testing
import PruneKit
import PruneQuantize
import PruneRuntime
import PruneTestSupport

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

/// The `quantize` rewriter with embeddings on, applied with no layer weight selected.
private func quantizeEmbeddings(_ model: Model, bits: Int = 8) throws -> RewriteResult {
    try QuantizeRewriter(scheme: try WeightQuantization(bits: 8, groupSize: 0), embeddingBits: bits)
        .rewrite(model, applying: Selection(entries: []), in: PruneContext(model: model, threads: 1))
}

/// Writes `builder`'s model and opens it as the pipeline does.
private func document(_ builder: GraphBuilder, in directory: TemporaryDirectory) throws -> Model {
    let url = directory.file("model.onnx")
    try builder.write(to: url)
    return try ONNXDocument(url: url).model
}

@Suite struct EmbeddingQuantizationTests {
    /// Rows [127, −63.5, 0.5], [0, 0, 0], [2, −254, 1]: scales 1, 1 (an all-zero row), 2; halves round to even.
    @Test func levelsAndScalesByHand() throws {
        var builder = GraphBuilder()
        builder.input("ids", elemType: 7)
        builder.initializer("table", shape: [3, 3], floats: [127, -63.5, 0.5, 0, 0, 0, 2, -254, 1])
        builder.node("Gather", ["table", "ids"], ["rows"], name: "lookup")
        builder.output("rows")
        let directory = try TemporaryDirectory()
        let result = try quantizeEmbeddings(try document(builder, in: directory))
        #expect(result.model["table"] == nil)
        let levels = try result.model.parameter(named: "table_quantized").tensor
        #expect(levels.dtype == .i8 && levels.shape == [3, 3])
        #expect(levels.floatValues() == [127, -64, 0, 0, 0, 0, 1, -127, 0])
        let scales = try result.model.parameter(named: "table_scale").tensor
        #expect(scales.shape == [3, 1])
        #expect(scales.floatValues() == [1, 1, 2])
        #expect(result.layers.map(\.layer) == ["table"])
        #expect(result.layers.first?.note?.contains("int8 per row") == true)

        // Only the gathered rows come back, dequantised: row 2 then row 0 (index −3 wraps to 0).
        let graph = try ONNXGraph.of(result.model)
        let ids = RuntimeTensor(shape: [2], int64s: [2, -3])
        let rows = try Interpreter(graph: graph).run(["ids": ids])["rows"]!
        #expect(rows.shape == [2, 3])
        #expect(rows.floatValues() == [2, -254, 0, 127, -64, 0])
        // The reader keeps its node name; the table is no longer dequantised as a whole.
        let proto = try #require(result.model.graph as? ONNXModelGraph).proto
        #expect(proto.node.map(\.opType) == ["Gather", "Gather", "Cast", "Mul"])
        #expect(proto.node[0].name == "lookup" && proto.node[0].input == ["table_quantized", "ids"])
    }

    /// int4: rows [7, −3.5, 1, 0] (scale 1) and [14, −2.5, 0, −14] (scale 2); byte j of a row holds q + 8 of
    /// columns j (low nibble) and j + 2 (high nibble).
    @Test func fourBitLevelsAndPackingByHand() throws {
        var builder = GraphBuilder()
        builder.input("ids", elemType: 7)
        builder.initializer("table", shape: [2, 4], floats: [7, -3.5, 1, 0, 14, -2.5, 0, -14])
        builder.node("Gather", ["table", "ids"], ["rows"], name: "lookup")
        builder.output("rows")
        let directory = try TemporaryDirectory()
        let result = try quantizeEmbeddings(try document(builder, in: directory), bits: 4)
        let packed = try result.model.parameter(named: "table_quantized").tensor
        #expect(packed.dtype == .u8 && packed.shape == [2, 2])
        // Levels [7, −4, 1, 0] and [7, −1, 0, −7] (−3.5 → −4, −1.25 → −1).
        #expect(packed.floatValues() == [0x9F, 0x84, 0x8F, 0x17])
        #expect(try result.model.parameter(named: "table_scale").tensor.floatValues() == [1, 2])
        let rows = try Interpreter(graph: ONNXGraph.of(result.model))
            .run(["ids": RuntimeTensor(shape: [2], int64s: [1, 0])])["rows"]!
        #expect(rows.shape == [2, 4])
        #expect(rows.floatValues() == [14, -2, 0, -14, 7, -4, 1, 0])
    }

    /// An odd row width cannot share bytes between the halves: the table falls back to int8 and says so.
    @Test func fourBitOddWidthFallsBackToInt8() throws {
        var builder = GraphBuilder()
        builder.input("ids", elemType: 7)
        builder.initializer("table", shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        builder.node("Gather", ["table", "ids"], ["rows"])
        builder.output("rows")
        let directory = try TemporaryDirectory()
        let result = try quantizeEmbeddings(try document(builder, in: directory), bits: 4)
        #expect(try result.model.parameter(named: "table_quantized").tensor.dtype == .i8)
        #expect(result.layers.first?.note?.contains("int8 per row (4-bit rows need an even width") == true)
    }

    /// The written graph, run by the interpreter, against ONNX Runtime on an independently quantised model.
    @Test(arguments: [8, 4]) func interpreterMatchesONNXRuntime(bits: Int) throws {
        let model = try ONNXDocument(url: fixtures.appending(path: "embedding.onnx")).model
        let suffix = bits == 4 ? "_int4" : ""
        let io = try CalibrationData.batch(
            in: fixtures.appending(path: "embedding_io.safetensors"),
            inputs: ["ids", "positions", "y" + suffix, "word_levels" + suffix, "word_scales" + suffix])
        let result = try quantizeEmbeddings(model, bits: bits)
        #expect(Set(result.layers.map(\.layer)) == ["word", "position"])
        #expect(try result.model.parameter(named: "w").tensor.dtype == .f32, "a MatMul weight is not a table")
        #expect(try result.model.parameter(named: "word_scale").tensor.floatValues() == io["word_scales" + suffix]!.floatValues())
        if bits == 8 {
            #expect(try result.model.parameter(named: "word_quantized").tensor.floatValues() == io["word_levels"]!.floatValues())
        }
        let output = try Interpreter(graph: ONNXGraph.of(result.model))
            .run(["ids": io["ids"]!, "positions": io["positions"]!])["y"]!
        #expect(output.shape == [2, 5, 3])
        #expect(close(output.floatValues(), io["y" + suffix]!.floatValues()))
    }

    /// ONNX Runtime loads the written file and computes what it computes on the independently quantised model.
    @Test(arguments: [8, 4]) func onnxRuntimeRunsTheWrittenFile(bits: Int) throws {
        let python = try TestPython.required()
        let document = try ONNXDocument(url: fixtures.appending(path: "embedding.onnx"))
        let result = try quantizeEmbeddings(document.model, bits: bits)
        let directory = try TemporaryDirectory()
        let written = directory.file("quantized.onnx")
        _ = try document.write(result.model, to: written, metadata: [:], overwrite: false)
        let reference = fixtures.appending(path: bits == 4 ? "embedding_reference_int4.onnx" : "embedding_reference.onnx")
        let compare = try TestPython.run(
            python, [TestPython.script("ort_compare.py").path, reference.path, written.path])
        #expect(compare.status == 0 && compare.output.contains("OK"), "ort_compare.py: \(compare.output)")
    }

    /// An index out of range fails as it did before the rewrite, at the same node; a negative one wraps.
    @Test func indexErrorsUnchanged() throws {
        let model = try ONNXDocument(url: fixtures.appending(path: "embedding.onnx")).model
        let result = try quantizeEmbeddings(model)
        let positions = RuntimeTensor(shape: [1, 2], int64s: [0, 1])
        func failure(_ model: Model, _ ids: [Int64]) throws -> String? {
            let inputs = ["ids": RuntimeTensor(shape: [1, 2], int64s: ids), "positions": positions]
            do {
                _ = try Interpreter(graph: ONNXGraph.of(model)).run(inputs)
                return nil
            } catch let error as PruneError {
                return error.message
            }
        }
        for quantized in [result.model, try quantizeEmbeddings(model, bits: 4).model] {
            for ids: [Int64] in [[40, 0], [0, -41]] {
                let before = try #require(try failure(model, ids))
                #expect(try failure(quantized, ids) == before)
                #expect(before.contains("word_gather"))
            }
            #expect(try failure(quantized, [-1, -40]) == nil)
        }
    }

    /// A table something else reads too (a tied output projection) stays float, and the report says why.
    @Test func tiedTableStaysFloat() throws {
        var builder = GraphBuilder()
        builder.input("ids", elemType: 7)
        builder.initializer("table", shape: [4, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        builder.node("Gather", ["table", "ids"], ["rows"])
        builder.node("Transpose", ["table"], ["head"], ints: ["perm": [1, 0]])
        builder.node("MatMul", ["rows", "head"], ["logits"])
        builder.output("logits")
        let directory = try TemporaryDirectory()
        let result = try quantizeEmbeddings(try document(builder, in: directory))
        #expect(try result.model.parameter(named: "table").tensor.dtype == .f32)
        #expect(result.model["table_quantized"] == nil)
        let note = try #require(result.layers.first?.note)
        #expect(note.contains("left as float") && note.contains("Transpose"))
    }

    /// Without `embeddings=int8` (the default) tables are left alone, as before.
    @Test func offByDefault() throws {
        let model = try ONNXDocument(url: fixtures.appending(path: "embedding.onnx")).model
        let registry = ComponentRegistry.standard()
        for (parameters, quantized) in [
            ("bits=8", false), ("embeddings=none", false), ("embeddings=int8", true), ("embeddings=int4", true),
        ] {
            let rewriter = try registry.makeRewriter(ComponentSpec(parsing: "quantize:" + parameters))
            let result = try rewriter.rewrite(model, applying: Selection(entries: []), in: PruneContext(model: model, threads: 1))
            #expect((result.model["word_quantized"] != nil) == quantized, "\(parameters)")
            #expect((result.model["word"] == nil) == quantized, "\(parameters)")
        }
    }
}
