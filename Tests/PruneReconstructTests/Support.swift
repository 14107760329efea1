import Foundation
import PruneTestSupport
import ONNXProto
import PruneKit

/// Calibration batches held in memory.
struct InMemoryBatches: CalibrationBatches {
    let batches: [[String: Tensor]]
    var batchCount: Int { batches.count }
    func batch(_ index: Int, inputs: [String]) throws -> [String: Tensor] { batches[index] }
}

/// A temporary directory removed when the test ends (`PruneTestSupport`'s).
typealias Scratch = TemporaryDirectory

extension TemporaryDirectory {
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


enum Examples {
    static let cnn = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Examples/digits-cnn")
}
