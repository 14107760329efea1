import Foundation
import PruneCore
import PruneFormats

/// The input shapes of one batch of a data set: what a model with dynamic axes beyond the batch (a transformer's
/// sequence length) is counted at when its MACs are reported.
enum SampleInputShapes {
    /// The shapes of `inputNames` in the first `.safetensors` file of `data` (a file or a directory of them), or
    /// empty when there is no data or it cannot be read: the MACs are then unknown, as without data.
    static func of(_ data: URL?, inputNames: [String]) -> [String: [Int]] {
        guard let data else { return [:] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data.path, isDirectory: &isDirectory) else { return [:] }
        var file = data
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: data.path)) ?? []
            guard let first = names.filter({ $0.lowercased().hasSuffix(".safetensors") }).sorted().first else {
                return [:]
            }
            file = data.appending(path: first)
        }
        guard let document = try? SafetensorsDocument(url: file) else { return [:] }
        var shapes: [String: [Int]] = [:]
        for name in inputNames { if let tensor = document.model[name]?.tensor { shapes[name] = tensor.shape } }
        return shapes
    }

    /// The shapes, only when they bind a dynamic axis of `model` beyond the batch that the MAC count needs: empty
    /// when `model` is counted without them.
    static func needed(_ shapes: [String: [Int]], for model: Model) -> [String: [Int]] {
        shapes.isEmpty || ONNXCompute.macs(of: model) != nil ? [:] : shapes
    }
}
