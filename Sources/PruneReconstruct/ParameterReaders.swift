import ONNXProto
import PruneCore

/// Which nodes read each parameter, seeing through `Identity` chains: exporters store equal initializers once (the
/// zero biases of freshly initialised, folded BatchNorms, tied weights) and several nodes then read one tensor,
/// some through `Identity` nodes. A re-fit must not overwrite such a tensor for one reader.
struct ParameterReaders {
    /// The parameter each `Identity` output stands for (chains followed to the parameter).
    private var aliases: [String: String] = [:]
    /// Non-`Identity` node inputs reading each parameter, directly or through an alias.
    private var counts: [String: Int] = [:]

    /// The readers of `model`'s parameters in `graph`.
    init(graph: Onnx_GraphProto, model: Model) {
        for node in graph.node where node.opType == "Identity" && node.input.count == 1 && node.output.count == 1 {
            let source = aliases[node.input[0]] ?? node.input[0]
            if model[source] != nil { aliases[node.output[0]] = source }
        }
        for node in graph.node where node.opType != "Identity" {
            for input in node.input where !input.isEmpty {
                let root = aliases[input] ?? input
                if model[root] != nil { counts[root, default: 0] += 1 }
            }
        }
        for output in graph.output {
            let root = aliases[output.name] ?? output.name
            if model[root] != nil { counts[root, default: 0] += 1 }
        }
    }

    /// The parameter `value` is (itself, or the parameter an `Identity` chain passes on).
    func parameter(_ value: String) -> String { aliases[value] ?? value }

    /// How many node inputs (and graph outputs) read the parameter `value` stands for.
    func readerCount(_ value: String) -> Int { counts[parameter(value)] ?? 0 }
}
