import PruneCore

/// Finding a target's calibration statistics and mapping weight elements to the input features they read.
enum CalibrationLookup {
    /// The context's statistics, or an error saying `scorer` needs calibration.
    static func statistics(_ context: PruneContext, scorer: String) throws -> CalibrationStatistics {
        guard let statistics = context.statistics else {
            throw PruneError(.missingData, "scorer '\(scorer)' needs calibration data", hint: .calibrationData)
        }
        return statistics
    }

    /// The input-feature statistics of `parameter`, or an error naming it.
    static func inputs(of parameter: String, in statistics: CalibrationStatistics, scorer: String) throws
        -> InputFeatureStatistics
    {
        guard let inputs = statistics.inputs[parameter] else {
            throw PruneError(
                .invalidInput,
                "scorer '\(scorer)': no calibration statistics for the input features of '\(parameter)' "
                    + "(statistics cover the Conv, Gemm and MatMul weights of an ONNX graph)")
        }
        return inputs
    }

    /// The output-unit statistics of `parameter`, or an error naming it.
    static func outputs(of parameter: String, in statistics: CalibrationStatistics, scorer: String) throws
        -> OutputUnitStatistics
    {
        guard let outputs = statistics.outputs[parameter] else {
            throw PruneError(
                .invalidInput,
                "scorer '\(scorer)': no calibration statistics for the output units of '\(parameter)' "
                    + "(statistics cover the Conv, Gemm and MatMul weights of an ONNX graph)")
        }
        return outputs
    }

    /// For every element of `parameter`, `combine(w, factor(feature))` where `feature` is the input feature
    /// (channel) the element multiplies.
    ///
    /// - Throws: `PruneError.Kind.shapeMismatch` when the statistics' feature count does not fit the weight.
    static func weighted(
        _ parameter: Parameter, by inputs: InputFeatureStatistics, factor: (Int) -> Double,
        combine: (Float, Float) -> Float
    ) throws -> [Float] {
        let shape = parameter.tensor.shape
        guard let layout = parameter.effectiveLayout else {
            throw PruneError(.unsupported, "'\(parameter.name)' of shape \(shape) has no input axis to weight")
        }
        let inExtent = shape[layout.inputAxis]
        let outExtent = shape[layout.outputAxis]
        let groups = inputs.groups
        guard inputs.featureCount == inExtent * groups, outExtent % groups == 0 else {
            throw PruneError(
                .shapeMismatch,
                "'\(parameter.name)' reads \(inExtent) input features per group (\(groups) groups) but its statistics have \(inputs.featureCount)"
            )
        }
        let outPerGroup = outExtent / groups
        let inStride = shape[(layout.inputAxis + 1)...].reduce(1, *)
        let outStride = shape[(layout.outputAxis + 1)...].reduce(1, *)
        let factors = (0..<inputs.featureCount).map { Float(factor($0)) }
        return parameter.tensor.withFloatValues { w in
            [Float](unsafeUninitializedCapacity: w.count) { out, initialized in
                for index in 0..<w.count {
                    let j = (index / inStride) % inExtent
                    let feature = groups == 1 ? j : ((index / outStride) % outExtent) / outPerGroup * inExtent + j
                    out[index] = combine(w[index], factors[feature])
                }
                initialized = w.count
            }
        }
    }
}
