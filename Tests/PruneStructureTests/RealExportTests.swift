import Foundation
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure
import PruneTestSupport
import Testing

/// Tiny-width torchvision architectures exported by `torch.onnx.export` with its defaults
/// (`Fixtures/exports/make_exports.py` wrote them, with ONNX Runtime's output and Torch-Pruning's result at 0.5).
///
/// Each check that today's code fails is listed in ``knownIssues`` with the exact failure, and runs inside
/// `withKnownIssue`: remove the entry when the graph layer makes the check pass (Swift Testing then fails the
/// test until it is removed, so the list stays true).
@Suite("Real exports")
struct RealExportTests {
    /// The checks run on every fixture.
    enum Check: String, CaseIterable {
        /// The analysis finds as many prunable groups as Torch-Pruning prunes.
        case groups
        /// `prune run … --rewriter remove` at 0.5 exits 0 with a parameter ratio within 0.02 of Torch-Pruning's.
        case removal
        /// ONNX Runtime loads and runs the pruned file.
        case ortLoadsPruned
        /// The interpreter's output on the dense model equals ONNX Runtime's recorded output.
        case interpreterDense
        /// The interpreter's output on the pruned model equals ONNX Runtime's on the same file.
        case interpreterPruned
    }

    static let models = [
        "resnet18", "resnext50_32x4d", "densenet121", "googlenet", "squeezenet1_0", "mobilenet_v2",
        "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "regnet_y_400mf", "convnext_tiny", "vit_b_16",
    ]

    /// What fails today, per model and check, with the failure seen (the graph layer's to-do list).
    static let knownIssues: [String: [Check: String]] = [
        "resnet18": [
            .groups: Issue11.sharedBias + "1 of 6 groups prunable",
            .removal: "parameter ratio 0.841, Torch-Pruning 0.265 (groups refused for the shared bias)",
            .ortLoadsPruned: Issue11.brokenModel + "'/layers/layers.2/downsample/downsample.0/Conv' (16)",
        ],
        "resnext50_32x4d": [
            .groups: Issue11.sharedBias + "1 of 9 groups prunable",
            .removal: "parameter ratio 0.956, Torch-Pruning 0.314",
            .ortLoadsPruned: Issue11.brokenModel + "'/layers/layers.2/conv1/Conv' (8)",
        ],
        "densenet121": [
            .groups: Issue11.sharedBias + "0 of 10 groups prunable",
            .removal: Issue11.nothingToPrune,
        ],
        "googlenet": [
            .groups: Issue11.sharedBias + "4 of 13 groups prunable",
            .removal: "parameter ratio 0.682, Torch-Pruning 0.309",
            .ortLoadsPruned: Issue11.brokenModel + "'/inception3a/branch2/branch2.0/conv/Conv' (8)",
        ],
        "mobilenet_v2": [
            .groups: Issue11.sharedBias + "1 of 8 groups prunable",
            .removal: "parameter ratio 0.588, Torch-Pruning 0.394",
        ],
        "mobilenet_v3_large": [
            .groups: Issue11.sharedBias + "3 of 18 groups prunable",
            .removal: "parameter ratio 0.772, Torch-Pruning 0.292",
            .ortLoadsPruned: Issue11.brokenModel + "'/features/features.0/features.0.0/Conv' (8)",
        ],
        "efficientnet_b0": [
            .groups: Issue11.sharedBias + "4 of 12 groups prunable",
            .removal: "parameter ratio 0.708, Torch-Pruning 0.338",
            .ortLoadsPruned: Issue11.brokenModel + "'/features/features.2/features.2.0/block/block.2/fc1/Conv' (2)",
        ],
        "shufflenet_v2_x1_0": [
            .groups: "0 of 11 groups prunable: '(Reshape): only reshapes that flatten the trailing axes are "
                + "understood' (channel shuffle), '(ReduceMean): the structure analysis does not understand this "
                + "operator', and the shared bias",
            .removal: Issue11.nothingToPrune,
        ],
        "regnet_y_400mf": [
            .groups: Issue11.sharedBias + "4 of 13 groups prunable",
            .removal: "parameter ratio 0.938, Torch-Pruning 0.294",
            .ortLoadsPruned: Issue11.brokenModel + "'/trunk_output/block1/block1-0/f/a/a.0/Conv' (8)",
        ],
        "convnext_tiny": [
            .groups: "2 of 4 groups prunable: '(Transpose): the structure analysis does not understand this "
                + "operator' (LayerNorm over channels), '(Add): operand … broadcasts over the channels with another "
                + "rank' (layer scale), a Conv bias that is not an initializer PruneKit can slice",
            .removal: "parameter ratio 0.676, Torch-Pruning 0.312",
        ],
        "vit_b_16": [
            .groups: "0 of 2 groups prunable: '(MatMul): the group does not run along the feature axis', "
                + "'(Reshape): flattens across the channel axis'",
            .interpreterDense: "operator Mod is not supported by the runtime ('/encoder/layers/encoder_layer_0/"
                + "self_attention/Mod')",
            .removal: Issue11.nothingToPrune,
        ],
    ]

    /// Failures several models share (issue 11).
    enum Issue11 {
        static let sharedBias =
            "the exporter de-duplicates equal initializers (the zero biases of BatchNorm-folded Convs), and "
            + "'(Conv): 'onnx::Conv_…' is not an initializer PruneKit can slice' refuses their groups: "
        static let brokenModel =
            "prune run exits 0 but ONNX Runtime refuses the file: 'bias must be a 1D tensor of size "
            + "output_channels' at "
        static let nothingToPrune =
            "prune run exits 1: \"stage 'prune' has no tensors to prune (include: [], exclude: [])\""
    }

    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/PruneStructureTests/Fixtures/exports")

    struct Expected {
        var torchPruningGroups: Int
        var torchPruningRatio: Double
    }

    static func expected(_ model: String) throws -> Expected {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try #require(manifest["models"] as? [String: Any])
        let entry = try #require(models[model] as? [String: Any])
        let tp = try #require(entry["torch_pruning"] as? [String: Any])
        let parameters = try #require(entry["parameters"] as? Int)
        let left = try #require(tp["parameters_left"] as? Int)
        return Expected(
            torchPruningGroups: try #require(tp["groups_pruned"] as? Int),
            torchPruningRatio: Double(left) / Double(parameters))
    }

    /// Runs `body` as a known issue when `check` is listed for `model`, plainly otherwise.
    static func check(_ model: String, _ check: Check, _ body: () throws -> Void) {
        if let reason = knownIssues[model]?[check] {
            withKnownIssue(Comment(rawValue: reason)) { try body() }
        } else {
            do { try body() } catch { Issue.record(error, "\(model) \(check.rawValue)") }
        }
    }

    static func interpreterOutput(_ url: URL, input: Tensor) throws -> [Float] {
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run(["input": try RuntimeTensor(input)])
        return try #require(outputs["output"]).tensor().floatValues()
    }

    @Test("Analysis, removal at 0.5, ONNX Runtime on the output, interpreter = ONNX Runtime", arguments: models)
    func export(_ model: String) throws {
        let url = Self.fixtures.appendingPathComponent("\(model).onnx")
        let io = try SafetensorsDocument(url: Self.fixtures.appendingPathComponent("\(model).io.safetensors")).model
        let input = try io.parameter(named: "input").tensor
        let recorded = try io.parameter(named: "output").tensor.floatValues()
        let expected = try Self.expected(model)
        let dense = try ONNXDocument(url: url).model

        Self.check(model, .groups) {
            let analysis = try StructureAnalysis(model: dense)
            #expect(!analysis.groups.isEmpty)
            #expect(analysis.groups.filter(\.isPrunable).count == expected.torchPruningGroups)
        }
        Self.check(model, .interpreterDense) {
            let got = try Self.interpreterOutput(url, input: input)
            #expect(close(got, recorded, tolerance: 1e-4))
        }

        let directory = try Harness().directory
        let pruned = directory.appendingPathComponent("\(model).pruned.onnx")
        let run = try PruneBinary.run([
            "run", url.path, "-o", pruned.path, "--granularity", "unit", "--scorer", "magnitude:p=2", "--selector",
            "layer:sparsity=0.5,rounding=floor-keep", "--rewriter", "remove",
        ])
        Self.check(model, .removal) {
            try #require(run.status == 0, "prune run: \(run.stderr)")
            let ratio = Double(try ONNXDocument(url: pruned).model.parameterCount) / Double(dense.parameterCount)
            #expect(abs(ratio - expected.torchPruningRatio) <= 0.02, "ours \(ratio), Torch-Pruning's \(expected)")
        }
        guard run.status == 0 else { return }
        guard let python = TestPython.python else {
            if TestPython.isCI { Issue.record("CI is set but \(TestPython.skipMessage)") }
            return
        }
        let ortOutputs = directory.appendingPathComponent("\(model).pruned.ort.safetensors")
        let ort = try TestPython.run(
            python,
            [TestPython.script("ort_run.py").path, pruned.path, Self.fixtures.appendingPathComponent(
                "\(model).io.safetensors").path, ortOutputs.path])
        Self.check(model, .ortLoadsPruned) {
            #expect(ort.status == 0, "ort_run.py: \(ort.output)")
        }
        guard ort.status == 0 else { return }
        Self.check(model, .interpreterPruned) {
            let want = try SafetensorsDocument(url: ortOutputs).model.parameter(named: "output").tensor.floatValues()
            let got = try Self.interpreterOutput(pruned, input: input)
            #expect(close(got, want, tolerance: 1e-4))
        }
    }
}
