import Foundation
import PruneTestSupport
import PruneKit
import Testing

/// `prune run` with calibration, saved statistics and recipes, end to end on the bundled CNN.
@Suite(.serialized)
struct RunCalibrationCLITests {
    private let model = Examples.cnn.appending(path: "model.onnx").path
    private let calibration = Examples.cnn.appending(path: "calib.safetensors").path

    @Test func calibratedActivationRunPrunesEachRowAndStatisticsCanBeReused() throws {
        let work = try Scratch()
        let first = try PruneBinary.run([
            "run", model, "--calibration", calibration, "--scorer", "activation", "--selector", "row:sparsity=0.5",
            "-o", work.path("a.onnx"), "--save-stats", work.path("s.safetensors"), "--json",
        ])
        #expect(first.status == 0, "\(first.stderr)")
        let pruned = try ModelFiles.open(URL(fileURLWithPath: work.path("a.onnx"))).model
        #expect(pruned["fc1.weight"]!.tensor.zeroCount() == 64 * 256)
        let second = try PruneBinary.run([
            "run", model, "--stats", work.path("s.safetensors"), "--scorer", "activation", "--selector",
            "row:sparsity=0.5", "-o", work.path("b.onnx"),
        ])
        #expect(second.status == 0, "\(second.stderr)")
        let again = try ModelFiles.open(URL(fileURLWithPath: work.path("b.onnx"))).model
        for name in ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"] {
            #expect(again[name]!.tensor.floatValues() == pruned[name]!.tensor.floatValues())
        }
    }

    @Test func missingCalibrationIsAnErrorBeforeAnythingIsWritten() throws {
        let work = try Scratch()
        let outcome = try PruneBinary.run([
            "run", model, "--scorer", "density", "--granularity", "unit", "--selector", "layer:sparsity=0.25", "-o",
            work.path("a.onnx"),
        ])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("scorer 'density' (stage 'prune') needs calibration data: pass --calibration"))
        #expect(!FileManager.default.fileExists(atPath: work.path("a.onnx")))
    }

    @Test func recipeRunsEveryStageAndRecordsThem() throws {
        let work = try Scratch()
        try """
        stages:
          - name: weights
            scorer: magnitude
            selector: layer:sparsity=0.3
          - name: activations
            scorer: activation
            selector: row:sparsity=0.5
          - name: density
            scorer: density
            selector: layer:sparsity=0.25
            granularity: unit
            include: [fc1.weight]
        """.write(toFile: work.path("r.yaml"), atomically: true, encoding: .utf8)
        let outcome = try PruneBinary.run([
            "run", model, "--recipe", work.path("r.yaml"), "--calibration", calibration, "-o", work.path("a.onnx"),
            "--json",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("\"density\""))
        let pruned = try ModelFiles.open(URL(fileURLWithPath: work.path("a.onnx"))).model
        // 16 of fc1's 64 rows are removed entirely by the density stage.
        let rows = pruned["fc1.weight"]!.tensor.floatValues().chunked(512)
        #expect(rows.filter { $0.allSatisfy { $0 == 0 } }.count == 16)
        let bad = try PruneBinary.run([
            "run", model, "--recipe", work.path("r.yaml"), "--selector", "layer:sparsity=0.5", "-o", work.path("b.onnx"),
        ])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--recipe replaces --scorer"))
    }

    @Test func aRecipeErrorNamesTheLineAndNothingRuns() throws {
        let work = try Scratch()
        try "stages:\n  - scorer: activation\n    selector: row:sparsity=0.5\n    rewrite: mask\n"
            .write(toFile: work.path("r.yaml"), atomically: true, encoding: .utf8)
        let outcome = try PruneBinary.run([
            "run", model, "--recipe", work.path("r.yaml"), "--calibration", calibration, "-o", work.path("a.onnx"),
        ])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("r.yaml:4: unknown key 'rewrite' in stage 1"))
    }
}

extension Array {
    fileprivate func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min(count, $0 + size)] }
    }
}


/// A temporary directory removed when the test ends (`PruneTestSupport`'s).
typealias Scratch = TemporaryDirectory
