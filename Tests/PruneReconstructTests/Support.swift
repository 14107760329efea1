import Foundation
import ONNXProto
import PruneKit

/// Calibration batches held in memory.
struct InMemoryBatches: CalibrationBatches {
    let batches: [[String: Tensor]]
    var batchCount: Int { batches.count }
    func batch(_ index: Int, inputs: [String]) throws -> [String: Tensor] { batches[index] }
}

/// A temporary directory removed when the test ends.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appending(path: "prunekit-reconstruct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appending(path: name).path }

    /// Writes `proto` and opens it as a document.
    func open(_ proto: Onnx_ModelProto, as name: String) throws -> ONNXDocument {
        let file = url.appending(path: "\(name).onnx")
        try Data(proto.serializedBytes() as [UInt8]).write(to: file)
        return try ONNXDocument(url: file)
    }
}

/// A selection removing `units` of the structural group named `group`.
func removing(_ units: [Int], ofGroup group: String, in model: Model) throws -> Selection {
    let analysis = try StructureAnalysis(model: model)
    guard let found = analysis.group(named: group) else {
        throw PruneError(.invalidInput, "no group '\(group)'; groups: \(analysis.groups.map(\.name))")
    }
    return Selection(entries: [
        .init(target: found.target, decision: .prune(Mask(count: found.unitCount, setting: units)))
    ])
}

/// Runs the built `prune` executable next to the test binary (or `$PRUNE_BINARY`).
enum Prune {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        let environment = ProcessInfo.processInfo.environment
        process.executableURL =
            environment["PRUNE_BINARY"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appending(path: "prune")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

enum Examples {
    static let cnn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Examples/digits-cnn")
}
