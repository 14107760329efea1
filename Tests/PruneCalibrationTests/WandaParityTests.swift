import Foundation
import PruneKit
import Testing

/// `activation` + `row` equals Wanda computed in PyTorch with forward hooks
/// (`Scripts/fixtures/make_wanda_fixture.py`) on a small transformer-like block.
struct WandaParityTests {
    @Test func masksEqualThePyTorchReference() throws {
        let modelURL = Examples.fixtures.appending(path: "wanda_model.onnx")
        let document = try ModelFiles.open(modelURL)
        let statistics = try Calibration.collect(
            graph: try ONNXGraph(contentsOf: modelURL),
            data: try CalibrationData(url: Examples.fixtures.appending(path: "wanda_calib.safetensors")),
            kinds: ActivationScorer().dataNeeds.statistics.wanted, threads: 1)
        let pipeline = Pipeline([
            Stage(scorer: ActivationScorer(), selector: RowSelector(sparsity: 0.5), rewriter: MaskRewriter())
        ])
        let result = try pipeline.run(
            on: document.model, context: PruneContext(model: document.model, statistics: statistics))
        let reference = try SafetensorsDocument(url: Examples.fixtures.appending(path: "wanda_masks.safetensors")).model
        #expect(reference.parameters.count == 6)
        for expected in reference.parameters {
            let before = try document.model.parameter(named: expected.name).tensor.floatValues()
            let after = try result.model.parameter(named: expected.name).tensor.floatValues()
            #expect(!before.contains(0), "the reference assumes no zeros before pruning")
            let pruned = after.map { $0 == 0 ? Float(1) : 0 }
            let differing = zip(pruned, expected.tensor.floatValues()).filter { $0 != $1 }.count
            #expect(differing == 0, "\(expected.name): \(differing) positions differ from PyTorch")
        }
    }
}
