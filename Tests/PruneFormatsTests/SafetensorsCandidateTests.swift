import Foundation
import PruneCore
import PruneFormats
import Testing

/// Default candidates of a Hugging Face style checkpoint: the layers' weights, never embeddings, norms or the head.
@Suite struct SafetensorsCandidateTests {
    static func write(_ shapes: [(String, [Int])], in directory: URL) throws -> URL {
        let model = try Model(
            parameters: shapes.map { name, shape in
                Parameter(name: name, tensor: Tensor(shape: shape, values: [Float](repeating: 1, count: shape.reduce(1, *))))
            }, metadata: [:])
        let url = directory.appending(path: "model.safetensors")
        _ = try SafetensorsWriter.write(model, to: url, overwrite: true)
        return url
    }

    static let encoder: [(String, [Int])] = [
        ("embeddings.word_embeddings.weight", [30, 4]),
        ("embeddings.position_embeddings.weight", [8, 4]),
        ("embeddings.token_type_embeddings.weight", [2, 4]),
        ("embeddings.LayerNorm.weight", [4]),
        ("encoder.layer.0.attention.self.query.weight", [4, 4]),
        ("encoder.layer.0.attention.self.query.bias", [4]),
        ("encoder.layer.0.intermediate.dense.weight", [6, 4]),
        ("encoder.layer.0.output.dense.weight", [4, 6]),
        ("decoder.weight", [30, 4]),
        ("lm_head.weight", [30, 4]),
        ("model.norm.weight", [4, 1]),
    ]

    static func candidates(_ url: URL) throws -> [String] {
        try SafetensorsDocument(url: url).model.parameters.filter { $0.layout != nil }.map(\.name).sorted()
    }

    @Test func embeddingsNormsAndTheHeadAreLeftOut() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-candidates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try Self.write(Self.encoder, in: directory)
        #expect(
            try Self.candidates(url) == [
                "decoder.weight", "encoder.layer.0.attention.self.query.weight",
                "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.output.dense.weight",
            ])
        // With the config beside it, a [vocab_size, hidden] table is recognised whatever its name.
        try Data(#"{"vocab_size": 30, "max_position_embeddings": 8, "type_vocab_size": 2}"#.utf8)
            .write(to: directory.appending(path: "config.json"))
        #expect(
            try Self.candidates(url) == [
                "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.intermediate.dense.weight",
                "encoder.layer.0.output.dense.weight",
            ])
    }
}
