import PruneCore

/// The data-aware `activation` criterion.
///
/// Element targets get the Wanda score |w_ij|·‖x_j‖₂, with ‖x_j‖₂ the norm of input feature `j` over every
/// calibration position (for a convolution, of input channel `j` over batch and spatial positions); compare it
/// within output rows with the `row` selector, as Wanda does. Unit targets get the mean |a| of the unit's
/// output over the calibration data (after the following ReLU-like op when there is one).
public struct ActivationScorer: Scorer {
    /// Creates the scorer.
    public init() {}

    /// Input features for element targets, output units for unit targets; calibration is required.
    public var dataNeeds: DataNeeds {
        DataNeeds(statistics: StatisticsRequirement(required: [.inputFeatures, .outputUnits]))
    }

    /// Wanda scores for elements, mean |a| for units.
    ///
    /// - Throws: `PruneError` when there are no statistics, or none for the target's weight.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        let statistics = try CalibrationLookup.statistics(context, scorer: "activation")
        switch target.kind {
        case .elements(let name):
            let parameter = try context.model.parameter(named: name)
            let inputs = try CalibrationLookup.inputs(of: name, in: statistics, scorer: "activation")
            return Scores(
                try CalibrationLookup.weighted(parameter, by: inputs, factor: inputs.norm) { w, norm in abs(w) * norm })
        case .units(let count, let slices):
            let (outputs, found) = try UnitStatistics.find(slices, in: context, statistics, scorer: "activation")
            return Scores(UnitStatistics.perUnit(count, slices: found, outputs.unitCount) { outputs.meanAbsolute($0) })
        }
    }
}

/// The `density` criterion: the fraction of a unit's calibration outputs that are non-zero (1 − APoZ).
///
/// Units whose outputs are mostly zero after their ReLU contribute little and are pruned first. Scores units
/// only; element targets are an error.
public struct DensityScorer: Scorer {
    /// Creates the scorer.
    public init() {}

    /// Output units; calibration is required.
    public var dataNeeds: DataNeeds { DataNeeds(statistics: StatisticsRequirement(required: .outputUnits)) }

    /// 1 − APoZ per unit.
    ///
    /// - Throws: `PruneError` for element targets, missing statistics, or none for the target's weight.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        let statistics = try CalibrationLookup.statistics(context, scorer: "density")
        guard case .units(let count, let slices) = target.kind else {
            throw PruneError(
                .unsupported,
                "scorer 'density' scores output units; '\(target.name)' is an element target",
                hint: .unitGranularity)
        }
        let (outputs, found) = try UnitStatistics.find(slices, in: context, statistics, scorer: "density")
        return Scores(UnitStatistics.perUnit(count, slices: found, outputs.unitCount) { outputs.density($0) })
    }
}

/// Output-unit statistics for unit targets.
enum UnitStatistics {
    /// The first weight with output statistics that a slice cuts along its output axis, with every slice of it
    /// along that axis (a group repeated across the groups of a grouped convolution cuts it once per group).
    static func find(
        _ slices: [UnitSlice], in context: PruneContext, _ statistics: CalibrationStatistics, scorer: String
    ) throws -> (OutputUnitStatistics, [UnitSlice]) {
        for slice in slices {
            guard let outputs = statistics.outputs[slice.parameter],
                let layout = context.model[slice.parameter]?.effectiveLayout
            else { continue }
            if slice.axis == layout.outputAxis {
                return (outputs, slices.filter { $0.parameter == slice.parameter && $0.axis == slice.axis })
            }
        }
        return (
            try CalibrationLookup.outputs(of: slices.first?.parameter ?? "?", in: statistics, scorer: scorer),
            [slices[0]]
        )
    }

    /// Each unit's mean of `value` over the output indices its slices cover.
    static func perUnit(_ count: Int, slices: [UnitSlice], _ extent: Int, _ value: (Int) -> Double) -> [Float] {
        (0..<count).map { u in
            var sum = 0.0
            var covered = 0
            for slice in slices {
                let first = slice.offset + u * slice.width
                for index in first..<max(first, min(extent, first + slice.width)) {
                    sum += value(index)
                    covered += 1
                }
            }
            return covered == 0 ? 0 : Float(sum / Double(covered))
        }
    }
}
