import Foundation
import PruneKit
import Testing

/// A NaN in the input's weights is blamed on the input file and tensor, not on the scorer (issue 12).
struct NonFiniteInputTests {
    @Test func nanWeightIsBlamedOnTheInputFileAndTensor() throws {
        let weight = Tensor(shape: [2, 2], values: [1, .nan, 3, 4])
        let model = try Model(
            parameters: [Parameter(name: "fc.weight", tensor: weight, layout: .pytorch)],
            sourceURL: URL(fileURLWithPath: "/models/broken.safetensors"))
        let pipeline = Pipeline([
            Stage(scorer: MagnitudeScorer(), selector: LayerSelector(sparsity: 0.5), rewriter: MaskRewriter())
        ])
        let error = #expect(throws: PruneError.self) {
            try pipeline.run(on: model, context: PruneContext(model: model))
        }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.hasPrefix("/models/broken.safetensors: tensor 'fc.weight' holds nan at position 1") == true)
    }
}
