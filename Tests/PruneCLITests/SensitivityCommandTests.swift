import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `prune sensitivity` end to end on the bundled digits CNN, checked against `prune run` + `prune eval` of the same
/// single-group pruning.
@Suite("prune sensitivity (end to end)")
struct SensitivityCommandTests {
    let workspace = try! Workspace()
    static let cnn = PythonTools.packageRoot.appending(path: "Examples/digits-cnn")
    var model: String { Self.cnn.appending(path: "model.onnx").path }
    var test: String { Self.cnn.appending(path: "test.safetensors").path }
    var calibration: String { Self.cnn.appending(path: "calib.safetensors").path }

    @Test func aPointEqualsRunThenEvalOfTheSameGroup() throws {
        let cache = workspace.path("cnn.json")
        let sweep = try PruneBinary.run([
            "sensitivity", model, "--calibration", calibration, "--data", test, "--labels", "labels",
            "--grid", "0.5", "--cache", cache, "--threads", "1", "--no-plot",
        ])
        #expect(sweep.status == 0, "\(sweep.stderr)")
        #expect(sweep.stdout.contains("/conv2/Conv"))
        let curves = try SensitivityCurves.load(URL(fileURLWithPath: cache))
        let point = try #require(curves.point(target: "/conv2/Conv", sparsity: 0.5))

        // The same pruning by `prune run`: only conv2's group (the only one holding conv2.weight on its output side
        // and bn2), half of its 32 channels by magnitude:p=2, removed.
        let pruned = workspace.path("conv2-half.onnx")
        let run = try PruneBinary.run([
            "run", model, "-o", pruned, "--granularity", "unit", "--scorer", "magnitude:p=2", "--selector",
            "layer:sparsity=0.5", "--rewriter", "remove", "--include", "^bn2\\.weight$", "--threads", "1",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let eval = try PruneBinary.run([
            "eval", pruned, "--data", test, "--labels", "labels", "--reference", model, "--json", "--threads", "1",
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let agreement = try #require(report["agreement"] as? [String: Any])
        let top1 = try #require(agreement["top1"] as? Double)
        #expect(abs(point.fidelity - top1) < 1e-12, "sweep \(point.fidelity), run + eval \(top1)")
        let written = try ModelFiles.open(URL(fileURLWithPath: pruned)).model
        #expect(point.parameters == written.parameterCount)
        #expect(point.macs == ONNXCompute.macs(of: written))
    }

    @Test func cachesAreReusedAndAnotherModelsCacheIsRefused() throws {
        let cache = workspace.path("c.json")
        let base = ["sensitivity", model, "--calibration", calibration, "--cache", cache, "--threads", "1"]
        let first = try PruneBinary.run(base + ["--grid", "0.5"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("3 points measured, 0 points from the cache"), "\(first.stdout)")
        #expect(FileManager.default.fileExists(atPath: workspace.path("c.svg")))
        let second = try PruneBinary.run(base + ["--grid", "0.25,0.5"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("3 points measured, 3 points from the cache"), "\(second.stdout)")

        let mlp = PythonTools.packageRoot.appending(path: "Examples/digits-mlp/model.onnx").path
        let other = try PruneBinary.run([
            "sensitivity", mlp, "--data", PythonTools.packageRoot.appending(path: "Examples/digits-mlp/test.safetensors").path,
            "--cache", cache, "--grid", "0.5",
        ])
        #expect(other.status == 1)
        #expect(other.stderr.hasPrefix("prune: error: \(cache): the sensitivity cache cannot be reused: it was measured on another model"), "\(other.stderr)")
        #expect(other.stderr.contains("--force"))
    }

    @Test func shardsMergeAndMismatchedFilesAreRefused() throws {
        var files: [String] = []
        for index in 0..<2 {
            let file = workspace.path("shard-\(index).json")
            let outcome = try PruneBinary.run([
                "sensitivity", model, "--calibration", calibration, "--grid", "0.25,0.5", "--shard", "\(index)/2",
                "--cache", file, "--threads", "1", "--no-plot",
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            files.append(file)
        }
        let merged = workspace.path("all.json")
        let merge = try PruneBinary.run(["sensitivity", "merge"] + files + ["-o", merged])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("6 points from 2 files"), "\(merge.stdout)")
        let curves = try SensitivityCurves.load(URL(fileURLWithPath: merged))
        #expect(curves.curves.allSatisfy { $0.points.map(\.sparsity) == [0.25, 0.5] })

        let cosine = workspace.path("cosine.json")
        let measured = try PruneBinary.run([
            "sensitivity", model, "--calibration", calibration, "--grid", "0.5", "--metric", "cosine", "--cache",
            cosine, "--threads", "1", "--no-plot",
        ])
        #expect(measured.status == 0, "\(measured.stderr)")
        let refused = try PruneBinary.run(["sensitivity", "merge", files[0], cosine, "-o", workspace.path("x.json")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("it holds cosine, not agreement"), "\(refused.stderr)")
        let badShard = try PruneBinary.run(["sensitivity", model, "--calibration", calibration, "--shard", "2/2"])
        #expect(badShard.status == 64, "\(badShard.stderr)")
    }

    @Test func dataAwareScorersReadCalibrationOrSavedStatistics() throws {
        let missing = try PruneBinary.run([
            "sensitivity", model, "--data", test, "--scorer", "activation", "--cache", workspace.path("m.json"),
        ])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("scorer 'activation'") && missing.stderr.contains("--calibration"), "\(missing.stderr)")

        let stats = workspace.path("stats.safetensors")
        let save = try PruneBinary.run([
            "run", model, "-o", workspace.path("unused.onnx"), "--calibration", calibration, "--save-stats", stats,
            "--scorer", "activation", "--selector", "layer:sparsity=0.1",
        ])
        #expect(save.status == 0, "\(save.stderr)")
        var fidelities: [[Double]] = []
        for (name, source) in [("collected.json", ["--calibration", calibration]), ("saved.json", ["--stats", stats])] {
            let outcome = try PruneBinary.run(
                ["sensitivity", model, "--data", test, "--scorer", "activation", "--grid", "0.5", "--threads", "1",
                 "--no-plot", "--cache", workspace.path(name)] + source)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let curves = try SensitivityCurves.load(URL(fileURLWithPath: workspace.path(name)))
            #expect(curves.scorer == "activation")
            fidelities.append(curves.curves.flatMap { $0.points.map(\.fidelity) })
        }
        #expect(fidelities[0].count == 3)
        #expect(fidelities[0] == fidelities[1])
    }
}
