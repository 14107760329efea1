import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// `prune eval` end to end: the built binary on the bundled digits models.
@Suite("prune eval")
struct EvalCommandTests {
    static let cnn = PythonTools.packageRoot.appending(path: "Examples/digits-cnn")
    static let mlp = PythonTools.packageRoot.appending(path: "Examples/digits-mlp")
    static var cnnModel: String { cnn.appending(path: "model.onnx").path }
    static var cnnData: String { cnn.appending(path: "test.safetensors").path }

    /// Runs `prune eval … --json` and returns the parsed object.
    static func evalJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try PruneBinary.run(["eval"] + arguments + ["--json"])
        #expect(result.status == 0, "prune eval failed: \(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try #require(object as? [String: Any])
    }

    static func accuracy(_ report: [String: Any], _ key: String = "accuracy") -> (correct: Int, total: Int)? {
        guard let accuracy = report[key] as? [String: Any], let correct = accuracy["correct"] as? Int,
            let total = accuracy["total"] as? Int
        else { return nil }
        return (correct, total)
    }

    /// Runs `prune eval` expecting failure; returns stderr after checking it is one `prune: error:` line.
    static func evalError(_ arguments: [String]) throws -> String {
        let result = try PruneBinary.run(["eval"] + arguments)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && result.stderr.hasPrefix("prune: error: "), "not one error line: \(result.stderr)")
        return result.stderr
    }

    @Test("dense digits CNN: 534/540 (0.9889), as ONNX Runtime and PyTorch give")
    func denseAccuracy() throws {
        let report = try Self.evalJSON([Self.cnnModel, "--data", Self.cnnData, "--labels", "labels", "--batch", "64"])
        #expect(Self.accuracy(report)?.correct == 534)
        #expect(Self.accuracy(report)?.total == 540)
        #expect(report["samples"] as? Int == 540)
        #expect(report["batches"] as? Int == 9)
        #expect(report["agreement"] is NSNull)
        let latency = try #require((report["latency"] as? [String: Any])?["model"] as? [String: Any])
        #expect((latency["medianSeconds"] as? Double ?? 0) > 0)
        #expect((latency["samplesPerSecond"] as? Double ?? 0) > 0)
    }

    @Test(
        "ONNX Runtime's label count on the same data equals ours",
        .enabled(if: PythonTools.enabled, Comment(rawValue: PythonTools.skipMessage)))
    func accuracyMatchesOnnxRuntime() throws {
        let python = try PythonTools.required()
        let workspace = try Workspace()
        let outputs = try PythonTools.onnxRuntimeOutputs(
            python: python, model: Self.cnnModel, inputs: Self.cnnData, workspace: workspace, check: false)
        let logits = try #require(outputs["logits"]).floatValues()
        let labels = try RuntimeTensor(
            try SafetensorsDocument(url: URL(fileURLWithPath: Self.cnnData)).model.parameter(named: "labels").tensor
        ).int64Values()
        var correct = 0
        for (sample, label) in labels.enumerated() {
            let row = logits[(sample * 10)..<(sample * 10 + 10)]
            if Int64(row.firstIndex(of: row.max()!)! - sample * 10) == label { correct += 1 }
        }
        let report = try Self.evalJSON([Self.cnnModel, "--data", Self.cnnData, "--labels", "labels"])
        #expect(correct == 534)
        #expect(Self.accuracy(report)?.correct == correct)
    }

    @Test("global magnitude 50 % (mask) gives PyTorch's accuracies: CNN 536/540 (0.9926), MLP 522/540 (0.9667)")
    func prunedAccuracyMatchesPyTorch() throws {
        let workspace = try Workspace()
        for (folder, expected) in [(Self.cnn, 536), (Self.mlp, 522)] {
            let pruned = workspace.path("\(folder.lastPathComponent)-pruned.onnx")
            let run = try PruneBinary.run([
                "run", folder.appending(path: "model.onnx").path, "-o", pruned, "--scorer", "magnitude",
                "--selector", "global:sparsity=0.5", "--rewriter", "mask",
            ])
            #expect(run.status == 0, "\(run.stderr)")
            let report = try Self.evalJSON([
                pruned, "--data", folder.appending(path: "test.safetensors").path, "--labels", "labels",
                "--reference", folder.appending(path: "model.onnx").path,
            ])
            #expect(Self.accuracy(report)?.correct == expected, "\(folder.lastPathComponent)")
            #expect(Self.accuracy(report, "referenceAccuracy") != nil)
            let agreement = try #require(report["agreement"] as? [String: Any])
            #expect((agreement["top1"] as? Double ?? 0) > 0.9)
        }
    }

    @Test("a model compared with itself: top-1 1, cosine 1, max difference 0")
    func selfAgreement() throws {
        let report = try Self.evalJSON([
            Self.cnnModel, "--data", Self.cnnData, "--reference", Self.cnnModel, "--threads", "1", "--batch", "100",
        ])
        let agreement = try #require(report["agreement"] as? [String: Any])
        #expect(agreement["top1"] as? Double == 1)
        #expect(agreement["top1Matches"] as? Int == 540)
        #expect(abs((agreement["meanCosine"] as? Double ?? 0) - 1) < 1e-12)
        #expect(agreement["maxAbsDifference"] as? Double == 0)
        #expect(agreement["maxRelativeDifference"] as? Double == 0)
        #expect(agreement["comparison"] as? String == "classesPerSample")
        #expect(agreement["rows"] as? Int == 540)
        #expect(report["threads"] as? Int == 1)
        #expect(report["batches"] as? Int == 6)
        #expect(((report["latency"] as? [String: Any])?["reference"] as? [String: Any]) != nil)
    }

    @Test("a directory of files is evaluated one file per batch")
    func directoryOfBatches() throws {
        let workspace = try Workspace()
        let directory = workspace.url.appending(path: "batches")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let document = try SafetensorsDocument(url: URL(fileURLWithPath: Self.cnnData))
        let input = try RuntimeTensor(try document.model.parameter(named: "input").tensor)
        let labels = try RuntimeTensor(try document.model.parameter(named: "labels").tensor)
        for (index, range) in [0..<300, 300..<540].enumerated() {
            let model = try Model(parameters: [
                Parameter(name: "input", tensor: input.samples(range).tensor()),
                Parameter(name: "labels", tensor: labels.samples(range).tensor()),
            ])
            _ = try SafetensorsWriter.write(
                model, to: directory.appending(path: "part\(index).safetensors"), overwrite: false)
        }
        let report = try Self.evalJSON([Self.cnnModel, "--data", directory.path, "--labels", "labels"])
        #expect(Self.accuracy(report)?.correct == 534)
        #expect(report["batches"] as? Int == 2)
        #expect(report["batchSize"] is NSNull)
    }

    @Test("mismatched names, shapes and dtypes, missing labels and corrupt files are one-line errors")
    func errors() throws {
        let workspace = try Workspace()
        func write(_ name: String, _ parameters: [Parameter]) throws -> String {
            _ = try SafetensorsWriter.write(
                try Model(parameters: parameters), to: workspace.url.appending(path: name), overwrite: true)
            return workspace.path(name)
        }
        let wrongName = try write(
            "renamed.safetensors",
            [Parameter(name: "pixels", tensor: Tensor(shape: [2, 1, 8, 8], values: Array(repeating: 0, count: 128)))])
        var message = try Self.evalError([Self.cnnModel, "--data", wrongName])
        #expect(
            message.contains(
                "renamed.safetensors has no tensor 'input' for graph input 'input' of \(Self.cnnModel) (it holds: pixels)"
            ))

        message = try Self.evalError([Self.cnnModel, "--data", Self.mlp.appending(path: "test.safetensors").path])
        #expect(message.contains("tensor 'input' has shape [540, 64] (rank 2) but graph input 'input'"))
        #expect(message.contains("expects [batch, 1, 8, 8] (rank 4)"))

        let wrongWidth = try write(
            "wide.safetensors",
            [Parameter(name: "input", tensor: Tensor(shape: [2, 1, 8, 9], values: Array(repeating: 0, count: 144)))])
        message = try Self.evalError([Self.cnnModel, "--data", wrongWidth])
        #expect(message.contains("wide.safetensors: tensor 'input' has shape [2, 1, 8, 9] but graph input 'input'"))
        #expect(message.contains("(dimension 3 differs)"))

        let doubles = try Tensor(dtype: .f64, shape: [2, 1, 8, 8], bytes: [UInt8](repeating: 0, count: 128 * 8))
        let wrongType = try write("doubles.safetensors", [Parameter(name: "input", tensor: doubles)])
        message = try Self.evalError([Self.cnnModel, "--data", wrongType])
        #expect(
            message.contains(
                "doubles.safetensors: tensor 'input' is F64 but graph input 'input' of \(Self.cnnModel) expects FLOAT"))

        message = try Self.evalError([Self.cnnModel, "--data", Self.cnnData, "--labels", "targets"])
        #expect(message.contains("has no labels tensor 'targets' (it holds: "))

        let corrupt = workspace.path("corrupt.safetensors")
        try Data(try Data(contentsOf: URL(fileURLWithPath: Self.cnnData)).prefix(100)).write(
            to: URL(fileURLWithPath: corrupt))
        message = try Self.evalError([Self.cnnModel, "--data", corrupt])
        #expect(message.contains(corrupt))
    }

    /// y = x against y = x + (0, 0.3) on x [1, 3, 2] = (0.9, 0.1), (0.2, 0.8), (0.6, 0.4): position 2 flips.
    @Test("a [batch, positions, classes] output: top-1 per position when declared, none otherwise")
    func sequenceOutputs() throws {
        let workspace = try Workspace()
        func write(_ builder: GraphBuilder, _ name: String) throws -> String {
            let path = workspace.path(name)
            try Data(builder.model.serializedBytes() as [UInt8]).write(to: URL(fileURLWithPath: path))
            return path
        }
        var model = GraphBuilder()
        model.input("x")
        model.output("y")
        model.node("Identity", ["x"], ["y"])
        var reference = GraphBuilder()
        reference.input("x")
        reference.output("y")
        reference.initializer("shift", shape: [2], floats: [0, 0.3])
        reference.node("Add", ["x", "shift"], ["y"])
        let (modelPath, referencePath) = (try write(model, "seq.onnx"), try write(reference, "dense.onnx"))
        let data = workspace.path("seq.safetensors")
        let x = Tensor(shape: [1, 3, 2], values: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4])
        _ = try SafetensorsWriter.write(
            try Model(parameters: [Parameter(name: "x", tensor: x)]), to: URL(fileURLWithPath: data), overwrite: false)

        let declared = try Self.evalJSON([modelPath, "--data", data, "--reference", referencePath, "--classes-per-position"])
        let perPosition = try #require(declared["agreement"] as? [String: Any])
        #expect(perPosition["comparison"] as? String == "classesPerPosition")
        #expect(perPosition["top1Matches"] as? Int == 2 && perPosition["rows"] as? Int == 3)
        #expect(abs((perPosition["maxRelativeDifference"] as? Double ?? 0) - 0.3) < 1e-6)

        let plain = try Self.evalJSON([modelPath, "--data", data, "--reference", referencePath])
        let values = try #require(plain["agreement"] as? [String: Any])
        #expect(values["comparison"] as? String == "valuesPerPosition")
        #expect(values["top1"] is NSNull)

        let text = try PruneBinary.run(["eval", modelPath, "--data", data, "--reference", referencePath])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("agreement with the reference (first output, per position; not class distributions, so no top-1):"))
        #expect(!text.stdout.contains("  top-1 "), "\(text.stdout)")
        #expect(text.stdout.contains("max |difference| 0.3 (relative to max(1, |reference|): 0.3)"), "\(text.stdout)")
    }
}
