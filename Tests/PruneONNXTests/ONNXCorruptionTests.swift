import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import Testing

@Suite("Corrupt and hostile ONNX files")
struct ONNXCorruptionTests {
    /// Opens `bytes` as a model file and returns the error.
    private func openError(_ bytes: [UInt8], in directory: TemporaryDirectory, name: String = "bad.onnx") throws
        -> (PruneError, URL)
    {
        let url = directory.file(name)
        try Data(bytes).write(to: url)
        let error = try #require(throws: PruneError.self) { try ONNXDocument(url: url) }
        return (error, url)
    }

    private func serialized(_ model: Onnx_ModelProto) throws -> [UInt8] { try model.serializedBytes() }

    @Test("A truncated file is corrupt; the message names the file and the initializer it broke in")
    func truncated() throws {
        let directory = try TemporaryDirectory()
        let bytes = try serialized(TestModels.conv())
        let (error, url) = try openError(Array(bytes.prefix(bytes.count / 2)), in: directory)
        #expect(error.kind == .corruptFile)
        #expect(error.message.hasPrefix(url.path))
        #expect(error.message.contains("initializer #"))
    }

    @Test("Garbage and empty files are refused, naming the file")
    func garbage() throws {
        let directory = try TemporaryDirectory()
        let (error, url) = try openError(Array("this is not an ONNX model\n".utf8) + [0xFF, 0xFF], in: directory)
        #expect(error.kind == .corruptFile)
        #expect(error.message.hasPrefix(url.path))
        let (empty, emptyURL) = try openError([], in: directory, name: "empty.onnx")
        #expect(empty.kind == .corruptFile)
        #expect(empty.message == "\(emptyURL.path): the model has no graph")
    }

    @Test("raw_data of the wrong size names the file and tensor")
    func rawDataSize() throws {
        let directory = try TemporaryDirectory()
        var model = TestModels.matMul()
        model.graph.initializer[0].rawData = model.graph.initializer[0].rawData.prefix(40)
        let (error, url) = try openError(serialized(model), in: directory)
        #expect(error.kind == .corruptFile)
        #expect(
            error.message == "\(url.path): tensor 'W1': raw_data holds 40 bytes, but shape [4, 3] of FLOAT needs 48")
    }

    @Test("Typed fields of the wrong length name the file and tensor")
    func typedFieldSize() throws {
        let directory = try TemporaryDirectory()
        var model = try TestModels.mlp()
        model.graph.initializer[2].floatData.removeLast()
        let (error, url) = try openError(serialized(model), in: directory)
        #expect(
            error.message == "\(url.path): tensor 'W2': float_data holds 23 values, but shape [8, 3] of FLOAT needs 24")
    }

    @Test("Negative dims and duplicate names are corrupt")
    func dimsAndNames() throws {
        let directory = try TemporaryDirectory()
        var negative = TestModels.matMul()
        negative.graph.initializer[2].dims = [-6]
        let (error, url) = try openError(serialized(negative), in: directory)
        #expect(error.message.hasPrefix("\(url.path): tensor 'B': dims [-6]"))
        var duplicate = TestModels.matMul()
        duplicate.graph.initializer[1].name = "W1"
        duplicate.graph.initializer[1].dims = [4, 3]
        duplicate.graph.initializer[1].rawData = duplicate.graph.initializer[0].rawData
        let (twice, twiceURL) = try openError(serialized(duplicate), in: directory, name: "twice.onnx")
        #expect(twice.message == "\(twiceURL.path): two initializers are named 'W1'")
    }

    /// The external MLP with W1's entries replaced, its side file written beside it.
    private func externalError(
        _ entries: [(String, String)], in directory: TemporaryDirectory
    ) throws -> (PruneError, URL) {
        var (model, side) = try TestModels.external()
        try Data(side).write(to: directory.file(TestModels.sideName))
        model.graph.initializer[0].externalData = entries.map { TestModels.entry($0.0, $0.1) }
        return try openError(serialized(model), in: directory)
    }

    @Test(
        "External data that leaves the model's directory is refused",
        arguments: [
            "../weights.bin", "sub/../../weights.bin", "/etc/passwd", "C:\\weights.bin", "..\\weights.bin",
        ])
    func escapingLocation(location: String) throws {
        let directory = try TemporaryDirectory()
        let (error, url) = try externalError([("location", location)], in: directory)
        #expect(error.kind == .corruptFile)
        #expect(error.message.hasPrefix("\(url.path): tensor 'W1': external data file '\(location)'"))
        #expect(error.message.contains("absolute") || error.message.contains("leaves the model's directory"))
    }

    @Test("A missing side file names the model, tensor and data file")
    func missingSideFile() throws {
        let directory = try TemporaryDirectory()
        let (error, url) = try externalError([("location", "nowhere.bin")], in: directory)
        #expect(error.kind == .fileUnreadable)
        #expect(error.message.hasPrefix("\(url.path): tensor 'W1': external data file 'nowhere.bin' cannot be read"))
    }

    @Test(
        "Offsets and lengths outside the side file, or disagreeing with the shape, are refused",
        arguments: [
            ([("offset", "100000")], "offset 100000 lies past its end"),
            ([("offset", "200"), ("length", "128")], "offset 200 + length 128 runs past its end"),
            ([("offset", "180")], "offset 180 + length 128 runs past its end"),
            ([("length", "12")], "entry has length 12, but the tensor's shape and type need 128 bytes"),
            ([("offset", "-1")], "external data offset '-1' is not a non-negative integer"),
            ([("length", "lots")], "external data length 'lots' is not a non-negative integer"),
        ])
    func outOfRange(extra: [(String, String)], reason: String) throws {
        let directory = try TemporaryDirectory()
        let (error, url) = try externalError([("location", TestModels.sideName)] + extra, in: directory)
        #expect(error.kind == .corruptFile)
        #expect(error.message.hasPrefix("\(url.path): tensor 'W1': "))
        #expect(error.message.hasSuffix(reason), "\(error.message)")
    }

    @Test("EXTERNAL without a location is refused")
    func noLocation() throws {
        let directory = try TemporaryDirectory()
        let (error, url) = try externalError([("offset", "0")], in: directory)
        #expect(
            error.message == "\(url.path): tensor 'W1': data_location is EXTERNAL but external_data has no location")
    }
}
