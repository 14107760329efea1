import PruneCore

/// The small synthetic model and inputs that `prune plugins check` runs components on.
enum SyntheticRun {
    /// `layer.weight` [4, 3] (Linear), `conv.weight` [3, 2, 2, 2] (Conv), `next.weight` [2, 4] (consumes
    /// layer's 4 outputs), `layer.bias` [4]; values are a fixed, irregular sequence with no ties.
    static func model() throws -> Model {
        func values(_ count: Int, phase: Double) -> [Float] {
            (0..<count).map { i in Float(((Double(i) * 1.618 + phase).truncatingRemainder(dividingBy: 2)) - 1) }
        }
        return try Model(parameters: [
            Parameter(
                name: "layer.weight", tensor: Tensor(shape: [4, 3], values: values(12, phase: 0.1)), layout: .pytorch),
            Parameter(name: "layer.bias", tensor: Tensor(shape: [4], values: values(4, phase: 0.7))),
            Parameter(
                name: "next.weight", tensor: Tensor(shape: [2, 4], values: values(8, phase: 0.3)), layout: .pytorch),
            Parameter(
                name: "conv.weight", tensor: Tensor(shape: [3, 2, 2, 2], values: values(24, phase: 0.5)),
                layout: .pytorch),
        ])
    }

    /// The targets scorers are run on, with a label each.
    static func targets(in model: Model) throws -> [(label: String, target: PruneTarget)] {
        let layer = try model.parameter(named: "layer.weight")
        let conv = try model.parameter(named: "conv.weight")
        return [
            ("element target layer.weight [4, 3]", .elements(of: layer)),
            ("element target conv.weight [3, 2, 2, 2]", .elements(of: conv)),
            ("unit target layer.weight (4 units)", .units(of: layer, axis: 0)),
            ("unit target conv.weight (3 units)", .units(of: conv, axis: 0)),
            (
                "group target layer.weight rows + next.weight columns (4 units)",
                .group(
                    named: "layer", units: 4,
                    slices: [
                        UnitSlice(parameter: "layer.weight", axis: 0), UnitSlice(parameter: "next.weight", axis: 1),
                    ])
            ),
        ]
    }

    /// Statistics for components that declare some: ones along the weight's input axis.
    static let statistics: PluginStatisticsProvider = { parameter, _, context in
        guard let weight = context.model[parameter], let layout = TensorViews.layout(of: weight) else { return nil }
        let count = weight.tensor.shape[layout.inputAxis]
        return Tensor(shape: [count], values: [Float](repeating: 1, count: count))
    }

    /// A value for every required parameter, so components without full defaults can be run.
    static func arguments(for signature: ParameterSignature) -> [(key: String, value: String)] {
        signature.parameters.filter { $0.defaultValue == nil }.map { ($0.name, sample($0).description) }
    }

    /// A value inside a parameter's range or choices.
    static func sample(_ spec: ParameterSpec) -> ParameterValue {
        switch spec.type {
        case .str: return .str(spec.choices?.first ?? "")
        case .bool: return .bool(false)
        case .f64, .i64:
            let range = spec.range
            var value: Double
            switch (range?.lower, range?.upper) {
            case (let lower?, let upper?): value = (lower + upper) / 2
            case (let lower?, nil): value = lower + 1
            case (nil, let upper?): value = upper - 1
            case (nil, nil): value = 1
            }
            if spec.type == .i64 {
                value = value.rounded(.down)
                if let range, !range.contains(value) { value += 1 }
                return .i64(Int64(value))
            }
            return .f64(value)
        }
    }
}
