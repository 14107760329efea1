import Foundation
import Logging
import PruneCore
import PrunePluginHost
import PruneTestSupport

/// Loading plugins in-process (the files themselves are found by `PruneTestSupport`'s `TestPlugins`).
extension TestPlugins {
    /// Loads `path` into a fresh (or the given) registry.
    @discardableResult
    static func load(
        _ path: String, into registry: ComponentRegistry = ComponentRegistry(),
        options: PluginLoadOptions = PluginLoadOptions(), sha256: String? = nil
    ) throws -> (LoadedPlugin, ComponentRegistry) {
        let loader = PluginLoader(options: options, logger: Logger(label: "tests"))
        return (try loader.load(PluginReference(path: path, sha256: sha256), into: registry), registry)
    }
}

/// Small models for scoring.
enum TestModels {
    /// A float32 parameter.
    static func parameter(_ name: String, _ shape: [Int], _ values: [Float], layout: WeightLayout? = nil) -> Parameter {
        Parameter(name: name, tensor: Tensor(shape: shape, values: values), layout: layout)
    }

    /// A model of the given parameters.
    static func model(_ parameters: Parameter...) throws -> Model {
        try Model(parameters: parameters)
    }

    /// A context for `model`.
    static func context(_ model: Model, seed: UInt64 = 0) -> PruneContext {
        PruneContext(model: model, seed: seed, threads: 1)
    }
}

extension Error {
    /// The error's message as users see it.
    var message: String { String(describing: self) }
}
