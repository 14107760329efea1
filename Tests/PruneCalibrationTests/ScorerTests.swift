import Foundation
import PruneKit
import Testing

/// The data-aware scorers on hand-made statistics.
struct ScorerTests {
    private let weights = Tensor(shape: [2, 3], values: [1, -2, 3, 4, 5, -6])
    private let statistics = CalibrationStatistics(
        inputs: ["w": InputFeatureStatistics(squareSums: [4, 9, 0], count: 1)],
        outputs: ["w": OutputUnitStatistics(absoluteSums: [6, 2], zeroCounts: [1, 3], count: 4, observedOp: "Relu")])

    private func context(_ statistics: CalibrationStatistics?) throws -> PruneContext {
        let model = try Model(parameters: [Parameter(name: "w", tensor: weights, layout: .pytorch)])
        return PruneContext(model: model, statistics: statistics)
    }

    @Test func activationIsTheWandaScoreForElements() throws {
        let context = try context(statistics)
        let scores = try ActivationScorer().scores(for: .elements(of: context.model["w"]!), in: context)
        // |w| · ‖x_j‖ with norms [2, 3, 0].
        #expect(scores.values == [2, 6, 0, 8, 15, 0])
    }

    @Test func activationAndDensityScoreUnitsFromOutputs() throws {
        let context = try context(statistics)
        let units = PruneTarget.units(of: context.model["w"]!, axis: 0)
        #expect(try ActivationScorer().scores(for: units, in: context).values == [1.5, 0.5])
        #expect(try DensityScorer().scores(for: units, in: context).values == [0.75, 0.25])
    }

    @Test func contributionWeighsTheConsumersRowsByTheInputsMeanSquare() throws {
        let context = try context(statistics)
        // Units on the input axis: sqrt(E[x_j²]·Σ_o w_oj²) = sqrt(4·17), sqrt(9·29), sqrt(0·45).
        let scores = try ContributionScorer().scores(for: .units(of: context.model["w"]!, axis: 1), in: context)
        let expected: [Float] = [Float(68).squareRoot(), Float(261).squareRoot(), 0]
        #expect(zip(scores.values, expected).allSatisfy { abs($0 - $1) <= 1e-5 })
        // A group with no slice on a consumer's input axis has nothing to measure.
        let error = #expect(throws: PruneError.self) {
            try ContributionScorer().scores(for: .units(of: context.model["w"]!, axis: 0), in: context)
        }
        #expect(error?.message.contains("has no weight that reads its units") == true)
    }

    @Test func energyWeighsSquaresByTheInputsMeanSquareThenLamp() throws {
        let context = try context(statistics)
        let scores = try EnergyScorer().scores(for: .elements(of: context.model["w"]!), in: context)
        var expected: [Float] = [4, 36, 0, 64, 225, 0]
        ScoreNormalization.lamp.apply(to: &expected)
        #expect(scores.values == expected)
        // Without statistics it is the data-free LAMP(w²).
        let free = try EnergyScorer().scores(for: .elements(of: context.model["w"]!), in: try self.context(nil))
        var squares: [Float] = [1, 4, 9, 16, 25, 36]
        ScoreNormalization.lamp.apply(to: &squares)
        #expect(free.values == squares)
    }

    @Test func groupedConvolutionWeightsReadTheirGroupsChannels() throws {
        let model = try Model(parameters: [
            Parameter(name: "dw", tensor: Tensor(shape: [4, 1, 1, 1], values: [1, 1, 1, 1]), layout: .pytorch)
        ])
        let stats = CalibrationStatistics(inputs: ["dw": InputFeatureStatistics(squareSums: [1, 4], count: 1, groups: 2)])
        let context = PruneContext(model: model, statistics: stats)
        #expect(try ActivationScorer().scores(for: .elements(of: model["dw"]!), in: context).values == [1, 1, 2, 2])
    }

    @Test func scorersThatNeedDataSaySoWithoutIt() throws {
        let context = try context(nil)
        let error = #expect(throws: PruneError.self) {
            try DensityScorer().scores(for: .units(of: context.model["w"]!, axis: 0), in: context)
        }
        #expect(error?.message == "scorer 'density' needs calibration data")
        #expect(error?.kind == .missingData)
        #expect(error?.hint == .calibrationData)
        let elements = #expect(throws: PruneError.self) {
            try DensityScorer().scores(for: .elements(of: context.model["w"]!), in: try self.context(statistics))
        }
        #expect(elements?.hint == .unitGranularity)
        #expect(elements?.message.contains("--") == false, "library errors name no command-line flag")
    }

    @Test func requirementsAreDeclaredAndCombined() throws {
        #expect(MagnitudeScorer().dataNeeds == .none)
        #expect(EnergyScorer().dataNeeds.statistics == StatisticsRequirement(optional: .inputFeatures))
        #expect(DensityScorer().dataNeeds.statistics.required == .outputUnits)
        let combined = MagnitudeScorer().multiplied(by: DensityScorer()).normalized(.lamp)
        #expect(combined.dataNeeds.statistics.required == .outputUnits)
        let pipeline = Pipeline([
            Stage(scorer: EnergyScorer(), selector: LayerSelector(sparsity: 0.5), rewriter: MaskRewriter()),
            Stage(scorer: ActivationScorer(), selector: RowSelector(sparsity: 0.5), rewriter: MaskRewriter()),
        ])
        #expect(pipeline.dataNeeds.statistics == StatisticsRequirement(required: [.inputFeatures, .outputUnits], optional: .inputFeatures))
    }

    /// A user-written scorer asks for statistics the same way the built-ins do.
    private struct QuietUnits: Scorer {
        var dataNeeds: DataNeeds { DataNeeds(statistics: StatisticsRequirement(required: .outputUnits)) }
        func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
            let outputs = context.statistics!.outputs[target.name]!
            return Scores((0..<target.scoreCount).map { Float(outputs.meanAbsolute($0)) })
        }
    }

    @Test func aCustomScorerReadsTheSameStatistics() throws {
        let context = try context(statistics)
        #expect(Pipeline([Stage(scorer: QuietUnits(), selector: LayerSelector(sparsity: 0.5), rewriter: MaskRewriter())])
            .dataNeeds.statistics.required == .outputUnits)
        #expect(try QuietUnits().scores(for: .units(of: context.model["w"]!, axis: 0), in: context).values == [1.5, 0.5])
    }
}
