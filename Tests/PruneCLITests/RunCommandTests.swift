import Foundation
import PruneKit
import PruneTestSupport
import Testing

@Suite("prune run (end to end)")
struct RunCommandTests {
    let workspace = try! Workspace()

    @Test func prunesWritesTheModelAndAJSONReport() throws {
        let input = try workspace.writeModel()
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        let outcome = try PruneBinary.run([
            "run", input, "-o", workspace.path("out.safetensors"), "--scorer", "magnitude",
            "--selector", "global:sparsity=0.5", "--rewriter", "mask", "--report", workspace.path("report.json"),
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("sparsity: 0.00% → 41.67%"), "\(outcome.stdout)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)

        // 20 weights, 50 % → the 10 smallest (1…10) go; the bias is not a candidate but counts in totals.
        let output = try SafetensorsDocument(url: URL(fileURLWithPath: workspace.path("out.safetensors"))).model
        #expect(output["fc1.weight"]!.tensor.floatValues() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11, 12])
        #expect(output["fc2.weight"]!.tensor.floatValues() == (13...20).map(Float.init))
        #expect(output["fc1.bias"]!.tensor.isUnmodified)
        #expect(output.metadata["format"] == "pt")
        #expect(output.metadata["prunekit.pipeline"]?.contains("selector=global:sparsity=0.5") == true)

        let json =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: workspace.path("report.json")))) as! [String: Any]
        #expect(json["schemaVersion"] as? Int == 1)
        let totals = json["totals"] as! [String: Any]
        #expect(totals["zerosAfter"] as? Int == 10)
        #expect(totals["parametersBefore"] as? Int == 24)
        let phases = json["phases"] as! [String: Any]
        #expect(Set(phases.keys) == ["load", "score", "select", "rewrite", "analyse", "save", "total"])
        #expect((json["bytesWritten"] as? Int ?? 0) > 0)
    }

    @Test(arguments: [
        (
            ["--selector", "global:sparsity=1.5"],
            "prune: error: 'global': parameter 'sparsity' = 1.5 is outside [0..1)"
        ),
        (["--selector", "median:sparsity=0.5"], "prune: error: unknown selector 'median'; known selectors:"),
        (
            ["--selector", "layer:sparsity=0.5", "--scorer", "magnitude:q=2"],
            "prune: error: 'magnitude' has no parameter 'q'"
        ),
        (
            ["--selector", "layer:sparsity=0.5", "--include", "^nothing$"],
            "prune: error: stage 'prune' has no tensors to prune"
        ),
        (["--selector", "layer:sparsity=0.5", "--include", "(["], "prune: error: invalid pattern '(['"),
        (["--selector", "global:sparsity=0.5,min=0.6,max=0.4"], "prune: error: 'global': min=0.6 is above max=0.4"),
    ])
    func userErrorsExitNonZeroWithOneLine(arguments: [String], expected: String) throws {
        let input = try workspace.writeModel()
        let outcome = try PruneBinary.run(["run", input, "-o", workspace.path("out.safetensors")] + arguments)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.hasPrefix(expected), "\(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: workspace.path("out.safetensors")))
    }

    @Test func refusesToOverwriteUnlessForced() throws {
        let input = try workspace.writeModel()
        let output = workspace.path("out.safetensors")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: output))
        let refused = try PruneBinary.run(["run", input, "-o", output, "--selector", "layer:sparsity=0.5"])
        #expect(refused.status != 0)
        #expect(refused.stderr == "prune: error: \(output) already exists (use --force to overwrite it)\n")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "keep")
        let forced = try PruneBinary.run(["run", input, "-o", output, "--selector", "layer:sparsity=0.5", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let sameFile = try PruneBinary.run(["run", input, "-o", input, "--selector", "layer:sparsity=0.5", "--force"])
        #expect(sameFile.status != 0)
        #expect(sameFile.stderr.contains("never modifies its inputs"))
    }

    @Test func corruptInputIsNamed() throws {
        let input = workspace.path("broken.safetensors")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: input))
        let outcome = try PruneBinary.run([
            "run", input, "-o", workspace.path("o.safetensors"), "--selector", "layer:sparsity=0.5",
        ])
        #expect(outcome.status != 0)
        #expect(
            outcome.stderr
                == "prune: error: \(input): 3 bytes is too short for a safetensors file (it needs an 8-byte header length)\n"
        )
    }

    @Test func missingSelectorIsAUsageError() throws {
        let input = try workspace.writeModel()
        let outcome = try PruneBinary.run(["run", input, "-o", workspace.path("o.safetensors")])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("missing --selector"))
    }

    @Test func listShowsEveryComponentWithItsParameters() throws {
        let outcome = try PruneBinary.run(["run", "--list"])
        #expect(outcome.status == 0)
        let global = outcome.stdout.split(separator: "\n").first { $0.hasPrefix("global ") }
        #expect(global?.contains("selector") == true)
        #expect(global?.contains("sparsity:f64[0..1),min:f64[0..1]=0,max:f64[0..1]=1") == true, "\(outcome.stdout)")
        #expect(outcome.stdout.split(separator: "\n").contains { $0.hasPrefix("activation ") })
    }
}

@Suite("prune inspect (end to end)")
struct InspectCommandTests {
    let workspace = try! Workspace()

    @Test func listsTensorsAndTotals() throws {
        let outcome = try PruneBinary.run(["inspect", try workspace.writeModel()])
        #expect(outcome.status == 0)
        let row = outcome.stdout.split(separator: "\n").first { $0.hasPrefix("fc2.weight ") }
        #expect(
            row?.split(separator: " ") == ["fc2.weight", "F32", "[2,", "4]", "8", "0.00%", "yes"], "\(outcome.stdout)")
        #expect(outcome.stdout.contains("3 tensors, 24 parameters, 0 zeros (0.00%), 2 pruning candidates"))
    }

    @Test func jsonHasEveryTensor() throws {
        let outcome = try PruneBinary.run(["inspect", "--json", try workspace.writeModel()])
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as! [String: Any]
        let tensors = json["tensors"] as! [[String: Any]]
        #expect(tensors.map { $0["name"] as! String } == ["fc1.weight", "fc1.bias", "fc2.weight"])
    }
}

@Suite("prune run: compute in the report")
struct RunComputeReportTests {
    let workspace = try! Workspace()

    @Test func removingChannelsReportsMACsAndMeasuredLatency() throws {
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "Examples/digits-cnn/model.onnx").path
        let outcome = try PruneBinary.run([
            "run", model, "-o", workspace.path("small.onnx"), "--granularity", "unit", "--scorer", "magnitude:p=2",
            "--selector", "layer:sparsity=0.5,rounding=floor-keep", "--rewriter", "remove", "--measure-latency",
            "--report", workspace.path("report.json"),
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("MACs (batch 1): 337,536 → 86,848"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("latency (interpreter, batch 8, median of "), "\(outcome.stdout)")
        #expect(outcome.stdout.contains(", after 3 warm-up): "), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("; p10–p90 "), "\(outcome.stdout)")
        let json =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: workspace.path("report.json")))) as! [String: Any]
        let macs = try #require(json["macs"] as? [String: Int])
        #expect(macs == ["before": 337_536, "after": 86_848])
        let latency = try #require(json["latency"] as? [[String: Any]])
        #expect(latency.map { $0["batch"] as? Int } == [1, 8])
        #expect(latency.allSatisfy { ($0["medianSecondsAfter"] as? Double ?? 0) > 0 })
    }
}
