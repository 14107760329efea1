import Foundation
import PruneCore
import PruneFormats
import PruneRuntime

/// Calibration batches on disk: one safetensors file, or a directory of them (one batch per file, read in
/// name order). Tensors are matched to graph inputs by name; other tensors (labels, say) are ignored.
public struct CalibrationData: Sendable {
    /// The batch files, in the order they are run.
    public let files: [URL]

    /// Finds the batches at `url`.
    ///
    /// - Throws: `PruneError.Kind.fileUnreadable` when `url` does not exist, `invalidInput` for a directory
    ///   without `.safetensors` files.
    public init(url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw PruneError(.fileUnreadable, "\(url.path): no such calibration file or directory")
        }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
                .filter { $0.lowercased().hasSuffix(".safetensors") }.sorted()
            guard !names.isEmpty else {
                throw PruneError(.invalidInput, "\(url.path): the calibration directory holds no .safetensors files")
            }
            files = names.map { url.appending(path: $0) }
        } else {
            files = [url]
        }
    }

    /// The batch in `file`, as runtime tensors for each of `inputs` (graph input names).
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the file and the graph input it lacks, and the format's
    ///   errors for unreadable files.
    package static func batch(in file: URL, inputs: [String]) throws -> [String: RuntimeTensor] {
        let document = try SafetensorsDocument(url: file)
        var batch: [String: RuntimeTensor] = [:]
        for name in inputs {
            guard let parameter = document.model[name] else {
                let held = document.model.parameterNames.joined(separator: ", ")
                throw PruneError(
                    .invalidInput,
                    "\(file.path): no tensor named '\(name)' for graph input '\(name)' (the file holds: \(held))")
            }
            batch[name] = try RuntimeTensor(parameter.tensor)
        }
        return batch
    }
}

extension CalibrationData: CalibrationBatches {
    /// The number of batch files.
    public var batchCount: Int { files.count }

    /// The batch in file `index`, one tensor per graph input in `inputs` (the file's own tensors, memory-mapped).
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the file and the graph input it lacks.
    public func batch(_ index: Int, inputs: [String]) throws -> [String: Tensor] {
        let file = files[index]
        let document = try SafetensorsDocument(url: file)
        var batch: [String: Tensor] = [:]
        for name in inputs {
            guard let parameter = document.model[name] else {
                let held = document.model.parameterNames.joined(separator: ", ")
                throw PruneError(
                    .invalidInput,
                    "\(file.path): no tensor named '\(name)' for graph input '\(name)' (the file holds: \(held))")
            }
            batch[name] = parameter.tensor
        }
        return batch
    }
}
