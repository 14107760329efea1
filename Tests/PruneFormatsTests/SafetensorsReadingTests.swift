import Foundation
import PruneCore
import Testing

@testable import PruneFormats

@Suite("Safetensors reading")
struct SafetensorsReadingTests {
    let directory = try! TemporaryDirectory()

    @Test func readsTensorsInDataOrderWithMetadataAndLayouts() throws {
        let file = SafetensorsTestFile(
            header: #"{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"#
                + #""a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}"#,
            data: [Float]([1, 2, 3, 4]).littleEndianBytes)
        let document = try SafetensorsDocument(url: file.write(in: directory.url))
        #expect(document.model.parameterNames == ["a", "b"])
        #expect(document.model["a"]!.tensor.floatValues() == [1, 2])
        #expect(document.model["b"]!.tensor.floatValues() == [3, 4])
        #expect(document.model["a"]!.layout == .pytorch)
        #expect(document.model["b"]!.layout == nil)
        #expect(document.model.metadata == ["format": "pt"])
    }

    @Test func readsAFileWrittenByPyTorch() throws {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appending(
            path: "torch-weights.safetensors")
        let model = try SafetensorsDocument(url: url).model
        #expect(Set(model.parameterNames) == ["fc1.weight", "fc1.bias", "conv.weight", "fc2.weight", "fc3.weight"])
        #expect(model["conv.weight"]!.tensor.shape == [6, 3, 3, 3])
    }

    static let corruptCases: [(String, SafetensorsTestFile, String)] = [
        ("truncated", SafetensorsTestFile(header: "{}", data: [], truncatedTo: 5), "5 bytes is too short"),
        (
            "truncated data",
            SafetensorsTestFile(
                header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0],
                truncatedTo: nil),
            "tensor 'w': data_offsets [0, 16] lie outside the 4-byte data section"
        ),
        (
            "header past end", SafetensorsTestFile(header: "{}", data: [], declaredLength: 4096),
            "header length 4096 runs past the end of the file"
        ),
        (
            "huge header", SafetensorsTestFile(header: "{}", data: [], declaredLength: 1 << 40),
            "exceeds the 100000000-byte limit"
        ),
        ("not json", SafetensorsTestFile(header: "{nope", data: []), "header JSON is malformed at byte 9"),
        ("not an object", SafetensorsTestFile(header: "[1]", data: []), "header is not a JSON object"),
        (
            "offsets out of range",
            SafetensorsTestFile(
                header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]),
            "tensor 'w': data_offsets [0, 8] lie outside the 4-byte data section"
        ),
        (
            "size mismatch",
            SafetensorsTestFile(
                header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                data: [UInt8](repeating: 0, count: 8)),
            "tensor 'w': shape [3] of F32 does not match its 8 bytes of data"
        ),
        (
            "overlap",
            SafetensorsTestFile(
                header:
                    #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                data: [UInt8](repeating: 0, count: 8)),
            "tensors 'a' and 'b' overlap"
        ),
        (
            "hole",
            SafetensorsTestFile(header: #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#, data: [0, 0, 0, 0]),
            "data bytes 0..<2 belong to no tensor"
        ),
        (
            "unknown dtype",
            SafetensorsTestFile(header: #"{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0]),
            "tensor 'w': dtype 'F8_E4M3' is not supported"
        ),
        (
            "duplicate names",
            SafetensorsTestFile(
                header:
                    #"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
                data: [0, 0]),
            "duplicate key 'w'"
        ),
        (
            "negative shape",
            SafetensorsTestFile(header: #"{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#, data: []),
            "tensor 'w': shape"
        ),
        (
            "overflowing shape",
            SafetensorsTestFile(
                header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#, data: []),
            "does not match its 0 bytes"
        ),
        (
            "missing field",
            SafetensorsTestFile(header: #"{"w":{"dtype":"U8","shape":[1]}}"#, data: [0]),
            "tensor 'w': missing 'data_offsets'"
        ),
        (
            "bad metadata",
            SafetensorsTestFile(header: #"{"__metadata__":{"a":1}}"#, data: []),
            "__metadata__ entry 'a' is not a string"
        ),
        (
            "deep nesting",
            SafetensorsTestFile(
                header: String(repeating: "[", count: 200) + String(repeating: "]", count: 200), data: []),
            "nesting deeper than 64 levels"
        ),
    ]

    @Test(arguments: corruptCases.indices)
    func corruptFilesGiveErrorsNamingFileAndTensor(index: Int) throws {
        let (label, file, expected) = Self.corruptCases[index]
        let url = try file.write(in: directory.url, name: "\(index).safetensors")
        let error = #expect(throws: PruneError.self, "\(label)") { try SafetensorsDocument(url: url) }
        #expect(error?.message.hasPrefix(url.path) == true || error?.message.contains("tensor '") == true, "\(label)")
        #expect(error?.message.contains(expected) == true, "\(label): \(error?.message ?? "no error")")
    }

    @Test func nonUTF8HeadersAreRejected() throws {
        var bytes = SafetensorsTestFile(header: #"{"w":{}}"#, data: []).bytes
        bytes[10] = 0xFF  // inside the name
        let url = directory.url.appending(path: "latin1.safetensors")
        try Data(bytes).write(to: url)
        let error = #expect(throws: PruneError.self) { try SafetensorsDocument(url: url) }
        #expect(error?.message == "\(url.path): header is not valid UTF-8")
    }

    @Test func missingFilesAndDirectoriesAreNamed() {
        let missing = directory.url.appending(path: "absent.safetensors")
        let error = #expect(throws: PruneError.self) { try SafetensorsDocument(url: missing) }
        #expect(error?.message.hasPrefix(missing.path) == true)
        #expect(throws: PruneError.self) { try SafetensorsDocument(url: directory.url) }
    }
}
