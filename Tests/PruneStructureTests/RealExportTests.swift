import Foundation
import ONNXProto
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
        /// `magnitude:p=2,depthwise=exclude` + `layer:sparsity=0.5,rounding=floor-keep` keeps, in every Conv, Gemm
        /// and MatMul layer, the output channels Torch-Pruning keeps on the same weights (`kept.json`).
        case keptChannels
    }

    static let models = [
        "resnet18", "resnext50_32x4d", "densenet121", "googlenet", "squeezenet1_0", "mobilenet_v2",
        "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "regnet_y_400mf", "convnext_tiny", "vit_b_16",
    ]

    /// What fails today, per model and check, with the failure seen (the graph layer's to-do list).
    static let knownIssues: [String: [Check: String]] = [
        "shufflenet_v2_x1_0": [
            .groups: "5 of Torch-Pruning's 11 groups: a channel shuffle (Reshape → Transpose → Reshape splitting the "
                + "channel axis) is refused: '(Reshape): only reshapes that flatten the trailing axes are understood'",
            .removal: "parameter ratio 0.26 above Torch-Pruning's: the shuffled groups are refused",
            .keptChannels: "10 of 18 layers: the groups through the channel shuffle are refused (kept whole)",
        ],
        "vit_b_16": [
            .keptChannels: "Torch-Pruning 1.6.1 ties nn.MultiheadAttention's embed_dim to the hidden width and cuts "
                + "in_proj and out_proj by hidden channel; PruneKit removes whole heads and the hidden width as two "
                + "groups (the same parameter count at 0.5, different rows; Docs/Transformers.md)",
        ],
    ]

    /// Flags a model needs for a like-for-like comparison with Torch-Pruning: ViT's hidden width, which
    /// Torch-Pruning prunes, is offered only when asked for.
    static let flags: [String: [String]] = ["vit_b_16": ["--include-hidden-width"]]

    /// Groups PruneKit has beyond Torch-Pruning's count: ViT's attention heads, a group of their own here, part
    /// of the hidden-width group in Torch-Pruning.
    static let extraGroups: [String: Int] = ["vit_b_16": 1]

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

    /// Torch-Pruning's kept output channels per Conv/Linear module (`kept.json`, `make_exports.py --kept`).
    static func torchPruningKept(_ model: String) throws -> [String: [Int]] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("kept.json"))
        let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try #require(file["models"] as? [String: Any])
        return try #require(models[model] as? [String: [Int]], "kept.json has no channels for \(model)")
    }

    /// For each Conv, Gemm and MatMul with an initializer weight, by torch module: the output channels whose
    /// weights are not all zero.
    static func keptOutputs(_ document: ONNXDocument) throws -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for node in document.proto.graph.node where ["Conv", "Gemm", "MatMul"].contains(node.opType) {
            guard node.input.count > 1, let weight = document.model[node.input[1]]?.tensor, weight.shape.count >= 2
            else { continue }
            let values = weight.floatValues()
            let transB = node.attribute.first { $0.name == "transB" }?.i ?? 0
            let outputsOnColumns = node.opType == "MatMul" || (node.opType == "Gemm" && transB == 0)
            let rows = weight.shape[0]
            let inner = values.count / rows
            let units = outputsOnColumns ? inner : rows
            result[moduleName(node.name)] = (0..<units).filter { u in
                outputsOnColumns
                    ? (0..<rows).contains { values[$0 * inner + u] != 0 }
                    : (0..<inner).contains { values[u * inner + $0] != 0 }
            }
        }
        return result
    }

    /// The torch module's qualified name from a TorchScript-exported node name ('/layer1/layer1.0/conv1/Conv' is
    /// 'layer1.0.conv1'): a scope part that extends the previous one by '.NAME' adds NAME.
    static func moduleName(_ node: String) -> String {
        var qualified = ""
        var previous = ""
        for part in node.split(separator: "/").dropLast().map(String.init) {
            if !previous.isEmpty, part.hasPrefix(previous + ".") {
                qualified += String(part.dropFirst(previous.count))
            } else {
                qualified = qualified.isEmpty ? part : "\(qualified).\(part)"
            }
            previous = part
        }
        return qualified
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
            let analysis = try StructureAnalysis(
                model: dense, includingHiddenWidth: Self.flags[model]?.contains("--include-hidden-width") ?? false)
            #expect(!analysis.groups.isEmpty)
            // A group divided at a grouped Conv's boundaries (`conv[0:4]`, `conv[4:8]`) is one of Torch-Pruning's.
            let producers = Set(analysis.groups.filter(\.isPrunable).map { $0.name.prefix { $0 != "[" } })
            #expect(producers.count == expected.torchPruningGroups + (Self.extraGroups[model] ?? 0))
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
        ] + (Self.flags[model] ?? []))
        Self.check(model, .removal) {
            try #require(run.status == 0, "prune run: \(run.stderr)")
            let ratio = Double(try ONNXDocument(url: pruned).model.parameterCount) / Double(dense.parameterCount)
            #expect(abs(ratio - expected.torchPruningRatio) <= 0.02, "ours \(ratio), Torch-Pruning's \(expected)")
        }
        Self.check(model, .keptChannels) {
            let masked = directory.appendingPathComponent("\(model).masked.onnx")
            let maskRun = try PruneBinary.run([
                "run", url.path, "-o", masked.path, "--granularity", "unit", "--scorer", "magnitude:p=2,depthwise=exclude",
                "--selector", "layer:sparsity=0.5,rounding=floor-keep", "--rewriter", "mask",
            ] + (Self.flags[model] ?? []))
            try #require(maskRun.status == 0, "prune run: \(maskRun.stderr)")
            let theirs = try Self.torchPruningKept(model)
            let ours = try Self.keptOutputs(ONNXDocument(url: masked))
            let compared = ours.keys.filter { theirs[$0] != nil }.sorted()
            #expect(compared.count >= 2, "layers matched by module name: \(compared)")
            let differing = compared.filter { ours[$0] != theirs[$0] }
            #expect(differing.isEmpty, "\(compared.count - differing.count) of \(compared.count) layers; differ: \(differing)")
        }
        guard run.status == 0 else { return }
        let python = try TestPython.required()
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
