import Foundation
import PruneCore
import Testing

@testable import PruneFormats

@Suite("Safetensors writing")
struct SafetensorsWritingTests {
    let directory = try! TemporaryDirectory()

    private func sample() throws -> URL {
        // f16 [2,2] = 1, -2, 1, 1 ; u8 [3] ; f32 [2] — unaligned offsets on purpose (u8 first).
        let header =
            #"{"__metadata__":{"format":"pt","note":"keep me"},"#
            + #""ids":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"#
            + #""w":{"dtype":"F16","shape":[2,2],"data_offsets":[3,11]},"#
            + #""b":{"dtype":"F32","shape":[2],"data_offsets":[11,19]}}"#
        let data: [UInt8] =
            [7, 8, 9, 0x00, 0x3C, 0x00, 0xC0, 0x00, 0x3C, 0x00, 0x3C]
            + [Float](repeating: 0.5, count: 2).littleEndianBytes
        return try SafetensorsTestFile(header: header, data: data).write(in: directory.url, name: "in.safetensors")
    }

    @Test func roundTripKeepsBytesDtypesAndMetadataAndMasksInPlace() throws {
        let input = try sample()
        let before = try Data(contentsOf: input)
        let document = try SafetensorsDocument(url: input)
        var model = document.model
        try model.setTensor(model["w"]!.tensor.zeroing(Mask(count: 4, setting: [1, 2])), for: "w")
        let output = directory.url.appending(path: "out.safetensors")
        let written = try document.write(model, to: output, metadata: ["prunekit.version": "test"], overwrite: false)

        #expect(try Data(contentsOf: input) == before, "the input must not change")
        #expect(written == (try FileManager.default.attributesOfItem(atPath: output.path)[.size] as! Int))
        let reread = try SafetensorsDocument(url: output).model
        #expect(reread.metadata == ["format": "pt", "note": "keep me", "prunekit.version": "test"])
        #expect(reread["w"]!.tensor.dtype == .f16)
        #expect(reread["w"]!.tensor.floatValues() == [1, 0, 0, 1])
        #expect(reread["ids"]!.tensor.floatValues() == [7, 8, 9])
        #expect(reread["b"]!.tensor.floatValues() == [0.5, 0.5])
        // The data section starts 8-byte aligned.
        let bytes = try Data(contentsOf: output)
        let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect((8 + headerLength) % 8 == 0)
        // Unpruned tensors come out byte-identical: the file ends with b's bytes exactly.
        #expect(Array(bytes.suffix(8)) == [Float](repeating: 0.5, count: 2).littleEndianBytes)
    }

    @Test func refusesToOverwriteWithoutPermissionAndNeverTheInput() throws {
        let input = try sample()
        let document = try SafetensorsDocument(url: input)
        let output = directory.url.appending(path: "exists.safetensors")
        try Data("precious".utf8).write(to: output)
        let error = #expect(throws: PruneError.self) {
            try document.write(document.model, to: output, metadata: [:], overwrite: false)
        }
        #expect(error?.kind == .outputExists)
        #expect(try String(contentsOf: output, encoding: .utf8) == "precious")
        _ = try document.write(document.model, to: output, metadata: [:], overwrite: true)
        #expect(try SafetensorsDocument(url: output).model.parameterNames == ["ids", "w", "b"])

        let sameFile = #expect(throws: PruneError.self) {
            try document.write(document.model, to: input, metadata: [:], overwrite: true)
        }
        #expect(sameFile?.message.contains("is an input file") == true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter {
            $0.contains("prunekit-")
        }
        #expect(leftovers.isEmpty, "temporary files must not be left behind")
    }

    @Test func writeFailuresNameTheFile() throws {
        let document = try SafetensorsDocument(url: try sample())
        let output = directory.url.appending(path: "no/such/dir/out.safetensors")
        let error = #expect(throws: PruneError.self) {
            try document.write(document.model, to: output, metadata: [:], overwrite: false)
        }
        #expect(error?.message.hasPrefix(output.path) == true)
    }
}
