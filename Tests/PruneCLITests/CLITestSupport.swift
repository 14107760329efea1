import Foundation
import PruneKit
import PruneTestSupport

/// A temporary directory removed when the test ends (`PruneTestSupport`'s), where the CLI tests write models.
typealias Workspace = TemporaryDirectory

extension TemporaryDirectory {
    /// Writes a two-layer model with distinct weights 1…n (so the pruned set is known exactly) and a bias.
    func writeModel(_ name: String = "model.safetensors") throws -> String {
        let first = Tensor(shape: [4, 3], values: (1...12).map(Float.init))
        let second = Tensor(shape: [2, 4], values: (13...20).map(Float.init))
        let bias = Tensor(shape: [4], values: [0.5, 0.5, 0.5, 0.5])
        let model = try Model(
            parameters: [
                Parameter(name: "fc1.weight", tensor: first, layout: .pytorch),
                Parameter(name: "fc1.bias", tensor: bias),
                Parameter(name: "fc2.weight", tensor: second, layout: .pytorch),
            ], metadata: ["format": "pt"])
        _ = try SafetensorsWriter.write(model, to: url.appending(path: name), overwrite: true)
        return path(name)
    }
}
