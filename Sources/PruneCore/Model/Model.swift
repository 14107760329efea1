import Foundation

/// A model as PruneKit sees it: its named parameters in file order plus format metadata.
///
/// A value type: pipelines return a new `Model` and leave the one they were given (and its file) untouched.
/// Format-specific structure (an ONNX graph) travels with the model in the format's own document type.
public struct Model: Sendable {
    /// The parameters, in the order the source file stores them.
    public private(set) var parameters: [Parameter]
    /// Free-form string metadata (safetensors `__metadata__`).
    public var metadata: [String: String]
    /// Where the model was loaded from, when it came from a file.
    public var sourceURL: URL?
    /// The format's graph, when the file has one (ONNX); structural rewriters replace it with the edited graph.
    public var graph: (any ModelGraph)?
    /// Weights stored as integers by a quantising rewriter, by their old names (``QuantizedWeight``).
    public var quantizedWeights: [String: QuantizedWeight] = [:]
    private var indexByName: [String: Int]

    /// Creates a model from parameters with distinct names.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` naming the first repeated name.
    public init(parameters: [Parameter], metadata: [String: String] = [:], sourceURL: URL? = nil) throws {
        var index: [String: Int] = [:]
        for (position, parameter) in parameters.enumerated() {
            guard index.updateValue(position, forKey: parameter.name) == nil else {
                throw PruneError(.invalidInput, "two parameters are named '\(parameter.name)'")
            }
        }
        self.parameters = parameters
        self.metadata = metadata
        self.sourceURL = sourceURL
        self.indexByName = index
    }

    /// The parameter called `name`, if any.
    public subscript(name: String) -> Parameter? {
        indexByName[name].map { parameters[$0] }
    }

    /// The names of all parameters, in order.
    public var parameterNames: [String] { parameters.map(\.name) }

    /// The total number of elements across all parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.elementCount } }

    /// Replaces the tensor of parameter `name`.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` when no parameter has that name.
    public mutating func setTensor(_ tensor: Tensor, for name: String) throws {
        guard let position = indexByName[name] else {
            throw PruneError(.invalidInput, "no parameter named '\(name)'")
        }
        parameters[position].tensor = tensor
    }

    /// Appends a parameter (a structural rewrite giving one reader of a shared tensor its own copy).
    ///
    /// - Throws: `PruneError.Kind.invalidInput` when a parameter already has that name.
    public mutating func addParameter(_ parameter: Parameter) throws {
        guard indexByName[parameter.name] == nil else {
            throw PruneError(.invalidInput, "two parameters are named '\(parameter.name)'")
        }
        indexByName[parameter.name] = parameters.count
        parameters.append(parameter)
    }

    /// Removes parameter `name` (one nothing reads any more after a structural rewrite); no-op when absent.
    public mutating func removeParameter(named name: String) {
        guard let position = indexByName[name] else { return }
        parameters.remove(at: position)
        indexByName = [:]
        for (index, parameter) in parameters.enumerated() { indexByName[parameter.name] = index }
    }

    /// The parameter called `name`, or an error naming it.
    public func parameter(named name: String) throws -> Parameter {
        guard let parameter = self[name] else {
            throw PruneError(.invalidInput, "no parameter named '\(name)'")
        }
        return parameter
    }
}
