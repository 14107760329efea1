import Foundation
import PruneCore
import Testing

@testable import PruneFormats

/// Crafted files from issue 12 that the format readers must refuse with a one-line error naming the file.
@Suite("Hostile files")
struct HostileFileTests {
    @Test("an unknown safetensors dtype is named together with the file")
    func unknownDTypeNamesFile() throws {
        let directory = try TemporaryDirectory()
        let file = SafetensorsTestFile(
            header: #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0])
        let url = try file.write(in: directory.url)
        let error = #expect(throws: PruneError.self) { try SafetensorsDocument(url: url) }
        #expect(error?.message.hasPrefix(url.path) == true)
        #expect(error?.message.contains("dtype 'Q4' is not supported") == true)
    }

    @Test("a FIFO model file is refused at once instead of blocking")
    func fifoModelRefused() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appending(path: "model.safetensors")
        #expect(mkfifo(url.path, 0o600) == 0)
        let error = #expect(throws: PruneError.self) { try SafetensorsDocument(url: url) }
        #expect(error?.message.contains("not a regular file (a FIFO)") == true)
    }
}

/// Outputs: only regular files, permissions never widened, no temporaries left, extension matches the bytes.
@Suite("Hostile outputs")
struct HostileOutputTests {
    /// Writes 4 bytes to `url` through the atomic writer.
    @discardableResult
    static func write(_ url: URL, overwrite: Bool, sources: [URL] = []) throws -> Int {
        try AtomicFileWriter.write(to: url, overwrite: overwrite, sources: sources) { try $0.write([1, 2, 3, 4]) }
    }

    @Test("a FIFO named as the output is refused even with overwrite, and stays a FIFO")
    func nonRegularOutputRefused() throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.url.appending(path: "out.safetensors")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        let error = #expect(throws: PruneError.self) { try Self.write(fifo, overwrite: true) }
        #expect(error?.message.contains("is a FIFO, not a regular file") == true)
        var info = stat()
        #expect(stat(fifo.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
        let input = directory.url.appending(path: "in.safetensors")
        try Data([0]).write(to: input)
        #expect(throws: PruneError.self) { try ModelFiles.checkOutput(fifo, input: input, overwrite: true) }
    }

    @Test("the output keeps a 0600 input's permissions")
    func permissionsNotWidened() throws {
        let directory = try TemporaryDirectory()
        let input = directory.url.appending(path: "in.safetensors")
        try Data([0]).write(to: input)
        #expect(chmod(input.path, 0o600) == 0)
        let output = directory.url.appending(path: "out.safetensors")
        try Self.write(output, overwrite: false, sources: [input])
        var info = stat()
        #expect(stat(output.path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test("no named temporary exists while writing, and a dead process's leftovers are reclaimed")
    func noTemporariesLeft() throws {
        let directory = try TemporaryDirectory()
        let output = directory.url.appending(path: "out.safetensors")
        // A leftover of a killed run (PIDs never exceed 2^22 on Linux, so this process is gone).
        let stale = directory.url.appending(path: ".out.safetensors.prunekit-999999999-abcdef")
        try Data([0]).write(to: stale)
        var namesDuringWrite: [String] = []
        _ = try AtomicFileWriter.write(to: output, overwrite: false) { sink in
            namesDuringWrite = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
            try sink.write([1])
        }
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        // An unnamed O_TMPFILE where the filesystem has it; otherwise a named file carrying this process's PID.
        for name in namesDuringWrite where name.contains("prunekit-") {
            #expect(name.hasPrefix(".out.safetensors.prunekit-\(getpid())-"))
        }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try AtomicFileWriter.write(to: directory.url.appending(path: "b.safetensors"), overwrite: true) { _ in
                throw Stop()
            }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(left == ["out.safetensors"])
        // Overwriting goes through a short-lived name and leaves none.
        try Self.write(output, overwrite: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["out.safetensors"])
        #expect(try Data(contentsOf: output) == Data([1, 2, 3, 4]))
    }

    @Test("the output's extension picks its format: ONNX converts to safetensors, the rest is refused")
    func extensionMatchesFormat() throws {
        let onnx = URL(fileURLWithPath: "/m/model.onnx")
        let safetensors = URL(fileURLWithPath: "/m/model.safetensors")
        #expect(try ModelFiles.outputFormat(for: URL(fileURLWithPath: "/o/x.safetensors"), input: onnx) == "safetensors")
        #expect(try ModelFiles.outputFormat(for: URL(fileURLWithPath: "/o/x.onnx"), input: onnx) == "onnx")
        let reverse = #expect(throws: PruneError.self) {
            try ModelFiles.outputFormat(for: URL(fileURLWithPath: "/o/out.onnx"), input: safetensors)
        }
        #expect(reverse?.message.hasPrefix("/o/out.onnx: cannot write onnx from safetensors input") == true)
        #expect(throws: PruneError.self) {
            try ModelFiles.outputFormat(for: URL(fileURLWithPath: "/o/out.bin"), input: onnx)
        }
    }
}

@Suite("Error messages quote the file, not Swift")
struct HostileMessageTests {
    @Test("a negative safetensors extent is quoted as JSON, not as JSONValue.integer(-1)")
    func shapeErrorsQuoteJSON() throws {
        let directory = try TemporaryDirectory()
        let file = SafetensorsTestFile(
            header: #"{"w":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        let url = try file.write(in: directory.url)
        let error = #expect(throws: PruneError.self) { try SafetensorsDocument(url: url) }
        #expect(error?.message.contains("shape [2, -1] has an entry") == true)
        #expect(error?.message.contains("JSONValue") == false)
    }
}

@Suite("Declared sizes against the memory budget")
struct HostileSizeTests {
    @Test("a safetensors tensor of 10^12 elements (a sparse 2 TB file) is refused at open, not converted or scanned")
    func hugeTensorRefusedAtOpen() throws {
        let directory = try TemporaryDirectory()
        let count = 1_000_000_000_000
        var header = #"{"w":{"dtype":"BF16","shape":[1000000,1000000],"data_offsets":[0,\#(2 * count)]}}"#
        while header.utf8.count % 8 != 0 { header += " " }
        let url = try SafetensorsTestFile(header: header, data: []).write(in: directory.url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(8 + header.utf8.count + 2 * count))
        try handle.close()
        let started = Date()
        let error = #expect(throws: PruneError.self) { try SafetensorsDocument(url: url) }
        #expect(error?.message.hasPrefix("\(url.path): tensor 'w': shape [1000000, 1000000] as float32 needs") == true)
        #expect(Date().timeIntervalSince(started) < 5)
    }
}
