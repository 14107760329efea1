import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import Testing

@Suite("Writing ONNX models")
struct ONNXWriteTests {
    static let builders: [(String, @Sendable () throws -> Onnx_ModelProto)] = [
        ("mlp", { try TestModels.mlp() }), ("matmul", { TestModels.matMul() }), ("conv", { TestModels.conv() }),
    ]

    @Test("Writing an unchanged model gives back the same message, field for field", arguments: [0, 1, 2])
    func unchangedRoundTrip(index: Int) throws {
        let (name, build) = ONNXWriteTests.builders[index]
        let directory = try TemporaryDirectory()
        let input = directory.file("\(name).onnx")
        let output = directory.file("\(name).out.onnx")
        try TestModels.write(build(), to: input)
        let document = try ONNXDocument(url: input)
        let written = try document.write(document.model, to: output, metadata: [:], overwrite: false)
        let size = try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int
        #expect(written == size)
        #expect(try TestModels.decode(output) == TestModels.decode(input))
    }

    @Test("Unknown fields on the model, graph, nodes and initializers survive a rewrite")
    func unknownFieldsSurvive() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("mlp.onnx")
        let output = directory.file("out.onnx")
        try TestModels.write(TestModels.mlp(), to: input)
        let document = try ONNXDocument(url: input)
        var model = document.model
        let w1 = try model.parameter(named: "W1").tensor
        try model.setTensor(w1.zeroing(Mask(count: w1.elementCount, setting: [0])), for: "W1")
        _ = try document.write(model, to: output, metadata: [:], overwrite: false)
        let result = try TestModels.decode(output)
        let marker = Data(TestModels.unknownFieldBytes)
        #expect(result.unknownFields.data == marker)
        #expect(result.graph.unknownFields.data == marker)
        #expect(result.graph.node[0].unknownFields.data == marker)
        #expect(result.graph.initializer[0].name == "W1")
        #expect(result.graph.initializer[0].unknownFields.data == marker)  // rewritten, unknown field kept
        #expect(result.functions.count == 1)
        #expect(result.graph.valueInfo.map(\.name) == ["h"])
        #expect(result.docString == "test model")
        #expect(result.graph.node[0].docString == "first layer")
    }

    @Test("Masked tensors come out with zeros in their own type; typed fields become raw_data; nothing else changes")
    func maskedTensors() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("mlp.onnx")
        let output = directory.file("masked.onnx")
        try TestModels.write(TestModels.mlp(), to: input)
        let document = try ONNXDocument(url: input)
        var model = document.model
        var expected = try TestModels.decode(input)
        for name in ["W1", "W2"] {
            let tensor = try model.parameter(named: name).tensor
            let mask = Mask(count: tensor.elementCount, setting: stride(from: 0, to: tensor.elementCount, by: 2))
            try model.setTensor(tensor.zeroing(mask), for: name)
            var values = tensor.floatValues()
            for index in mask.setIndices { values[index] = 0 }
            let position = try #require(expected.graph.initializer.firstIndex { $0.name == name })
            expected.graph.initializer[position].floatData = []
            expected.graph.initializer[position].rawData = values.withUnsafeBytes { Data($0) }
        }
        _ = try document.write(model, to: output, metadata: [:], overwrite: false)
        #expect(try TestModels.decode(output) == expected)

        let reread = try ONNXDocument(url: output)
        #expect(reread.model["W1"]?.tensor.zeroCount() == 16)
        #expect(reread.model["W2"]?.tensor.zeroCount() == 12)
        #expect(reread.model["B1"]?.tensor.floatValues() == document.model["B1"]?.tensor.floatValues())
        #expect(reread.model["W1"]?.layout == WeightLayout(outputAxis: 0, inputAxis: 1))
    }

    @Test("A rewritten tensor that is not a mask (new bytes, new shape) is written too")
    func replacedTensor() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("matmul.onnx")
        let output = directory.file("out.onnx")
        try TestModels.write(TestModels.matMul(), to: input)
        let document = try ONNXDocument(url: input)
        var model = document.model
        try model.setTensor(Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), for: "B")
        _ = try document.write(model, to: output, metadata: [:], overwrite: false)
        let result = try TestModels.decode(output)
        let bias = try #require(result.graph.initializer.first { $0.name == "B" })
        #expect(bias.dims == [2, 3])
        #expect(try ONNXDocument(url: output).model["B"]?.tensor.floatValues() == [1, 2, 3, 4, 5, 6])
    }

    @Test("Metadata is merged into metadata_props: same key replaced, new keys appended in order")
    func metadataMerged() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("mlp.onnx")
        let output = directory.file("out.onnx")
        try TestModels.write(TestModels.mlp(), to: input)
        let document = try ONNXDocument(url: input)
        _ = try document.write(
            document.model, to: output, metadata: ["prunekit.version": "1", "author": "me", "a.first": "x"],
            overwrite: false)
        let props = try TestModels.decode(output).metadataProps.map { "\($0.key)=\($0.value)" }
        #expect(props == ["author=me", "a.first=x", "prunekit.version=1"])
    }

    @Test("Existing outputs are refused without overwrite, replaced with it; the input is never overwritten")
    func overwriteRules() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("mlp.onnx")
        let output = directory.file("out.onnx")
        try TestModels.write(TestModels.mlp(), to: input)
        let document = try ONNXDocument(url: input)
        _ = try document.write(document.model, to: output, metadata: [:], overwrite: false)
        let refused = try #require(throws: PruneError.self) {
            try document.write(document.model, to: output, metadata: [:], overwrite: false)
        }
        #expect(refused.kind == .outputExists)
        #expect(refused.message.contains(output.path))
        _ = try document.write(document.model, to: output, metadata: ["k": "v"], overwrite: true)
        #expect(try TestModels.decode(output).metadataProps.contains { $0.key == "k" })
        let before = try Data(contentsOf: input)
        let ontoInput = try #require(throws: PruneError.self) {
            try document.write(document.model, to: input, metadata: [:], overwrite: true)
        }
        #expect(ontoInput.kind == .outputExists)
        #expect(try Data(contentsOf: input) == before)
    }

    @Test("A parameter the model does not have, or a changed element type, is refused")
    func foreignParameters() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("matmul.onnx")
        try TestModels.write(TestModels.matMul(), to: input)
        let document = try ONNXDocument(url: input)
        let extra = try Model(
            parameters: document.model.parameters + [Parameter(name: "new", tensor: Tensor(shape: [1], values: [1]))])
        let unknown = try #require(throws: PruneError.self) {
            try document.write(extra, to: directory.file("a.onnx"), metadata: [:], overwrite: false)
        }
        #expect(unknown.kind == .invalidInput)
        #expect(unknown.message.contains("'new'"))
        var retyped = document.model
        try retyped.setTensor(Tensor(dtype: .f16, shape: [6], bytes: [UInt8](repeating: 0, count: 12)), for: "B")
        let type = try #require(throws: PruneError.self) {
            try document.write(retyped, to: directory.file("b.onnx"), metadata: [:], overwrite: false)
        }
        #expect(type.kind == .unsupported)
        #expect(type.message.contains("'B'"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("b.onnx").path))
    }

    @Test("External data: read from the side file, written to <output>.data, the input's side file untouched")
    func externalRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let (proto, side) = try TestModels.external()
        let input = directory.file("ext.onnx")
        try TestModels.write(proto, to: input)
        try Data(side).write(to: directory.file(TestModels.sideName))
        let document = try ONNXDocument(url: input)
        #expect(document.model["W1"]?.tensor.floatValues() == TestModels.values(32, seed: 1))
        #expect(document.model["W2"]?.tensor.floatValues() == TestModels.values(24, seed: 3))
        #expect(document.model["W1"]?.layout == WeightLayout(outputAxis: 0, inputAxis: 1))
        #expect(document.fileSize == (try Data(contentsOf: input).count) + side.count)

        var model = document.model
        let w2 = try model.parameter(named: "W2").tensor
        try model.setTensor(w2.zeroing(Mask(count: 24, setting: [1, 2, 3])), for: "W2")
        let outputDirectory = directory.file("out")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        let output = outputDirectory.appendingPathComponent("pruned.onnx")
        _ = try document.write(model, to: output, metadata: [:], overwrite: false)

        #expect(try Data(contentsOf: directory.file(TestModels.sideName)) == Data(side))
        let sideOut = outputDirectory.appendingPathComponent("pruned.onnx.data")
        #expect(FileManager.default.fileExists(atPath: sideOut.path))
        let reread = try ONNXDocument(url: output)
        #expect(reread.model["W1"]?.tensor.floatValues() == TestModels.values(32, seed: 1))
        var w2Expected = TestModels.values(24, seed: 3)
        for index in [1, 2, 3] { w2Expected[index] = 0 }
        #expect(reread.model["W2"]?.tensor.floatValues() == w2Expected)
        #expect(reread.externalFiles.map(\.url.lastPathComponent) == ["pruned.onnx.data"])

        // Apart from the external-data entries, the message is the input's.
        var expected = try TestModels.decode(input)
        var actual = try TestModels.decode(output)
        for position in expected.graph.initializer.indices
        where expected.graph.initializer[position].dataLocation == .external {
            let entries = actual.graph.initializer[position].externalData
            #expect(entries.first { $0.key == "location" }?.value == "pruned.onnx.data")
            expected.graph.initializer[position].externalData = []
            actual.graph.initializer[position].externalData = []
        }
        #expect(actual == expected)

        // Writing again without overwrite is refused because of the side file too.
        try FileManager.default.removeItem(at: output)
        let refused = try #require(throws: PruneError.self) {
            try document.write(model, to: output, metadata: [:], overwrite: false)
        }
        #expect(refused.message.contains("pruned.onnx.data"))
    }

    @Test("Past the inline size limit, tensors of 1 KiB or more move to external data")
    func largeModelsGoExternal() throws {
        let directory = try TemporaryDirectory()
        let input = directory.file("wide.onnx")
        let output = directory.file("wide.out.onnx")
        try TestModels.write(TestModels.wide(), to: input)
        let document = try ONNXDocument(url: input)
        _ = try ONNXWriter(document: document).write(
            document.model, to: output, metadata: [:], overwrite: false, inlineLimit: 4096)
        let result = try TestModels.decode(output)
        #expect(result.graph.initializer.map(\.dataLocation) == [.external, .default])
        #expect(result.graph.initializer[0].floatData.isEmpty)
        let reread = try ONNXDocument(url: output)
        #expect(reread.model["W"]?.tensor.floatValues() == TestModels.values(2048, seed: 1))
        #expect(reread.model["B"]?.tensor.floatValues() == TestModels.values(64, seed: 2))
        #expect(reread.fileSize < 4096 + 8192)

        let tooSmall = try #require(throws: PruneError.self) {
            try ONNXWriter(document: document).write(
                document.model, to: directory.file("x.onnx"), metadata: [:], overwrite: false, inlineLimit: 100)
        }
        #expect(tooSmall.kind == .unsupported)
    }
}
