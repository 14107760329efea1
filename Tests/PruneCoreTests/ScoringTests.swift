import Foundation
import Testing

@testable import PruneCore

@Suite("Score combinators")
struct ScoringTests {
    @Test func lampMatchesHandComputedValues() {
        // Sorted ascending 1, 2, 3: 1/(1+2+3), 2/(2+3), 3/3.
        var scores: [Float] = [3, 1, 2]
        ScoreNormalization.lamp.apply(to: &scores)
        #expect(scores == [1, Float(1.0 / 6.0), 0.4])
        // Ties share one denominator: both 2s get 2/(2+2), the 1 gets 1/5.
        var tied: [Float] = [2, 1, 2]
        ScoreNormalization.lamp.apply(to: &tied)
        #expect(tied == [0.5, 0.2, 0.5])
        var zeros: [Float] = [0, 0]
        ScoreNormalization.lamp.apply(to: &zeros)
        #expect(zeros == [0, 0])
    }

    @Test func maxAndSumNormalisation() {
        var a: [Float] = [1, 2, 4]
        ScoreNormalization.max.apply(to: &a)
        #expect(a == [0.25, 0.5, 1])
        var b: [Float] = [1, 3]
        ScoreNormalization.sum.apply(to: &b)
        #expect(b == [0.25, 0.75])
    }

    @Test func unitReductionsOverRowsAndColumns() {
        // [[1, -2], [3, 4]]: rows are units along axis 0, columns along axis 1.
        let scores: [Float] = [1, -2, 3, 4]
        func reduce(_ r: UnitReduction, axis: Int) -> [Float] {
            r.reduce(
                units: 2, slices: [UnitSlice(parameter: "w", axis: axis)], elementScores: [scores], shapes: [[2, 2]])
        }
        #expect(reduce(.l1, axis: 0) == [3, 7])
        #expect(reduce(.l2, axis: 0) == [Float(5).squareRoot(), 5])
        #expect(reduce(.sum, axis: 1) == [4, 2])
        #expect(reduce(.max, axis: 1) == [3, 4])
        #expect(reduce(.mean, axis: 0) == [-0.5, 3.5])
        #expect(reduce(.median, axis: 1) == [2, 1])
        #expect(reduce(.lp(3), axis: 0)[1] == Float((27.0 + 64.0).squareRoot() == 0 ? 0 : pow(91.0, 1.0 / 3.0)))
    }

    @Test func slicesWithOffsetAndWidthCoverTheirBlocks() {
        // A 1×6 weight whose input features come in blocks of 2 per unit after an offset of 2 (a Flatten after a
        // Concat, say): unit 0 owns features 2–3, unit 1 owns 4–5.
        let slice = UnitSlice(parameter: "w", axis: 1, offset: 2, width: 2)
        var owned: [[Int]] = [[], []]
        slice.forEachElement(inShape: [1, 6], units: 2) { unit, index in owned[unit].append(index) }
        #expect(owned == [[2, 3], [4, 5]])
    }
}
