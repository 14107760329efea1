import Foundation
import ONNXProto
import PruneKit
import PruneTestSupport
import Testing

/// The least-squares re-fit of grouped and depthwise convolutions after channel removal: one problem per
/// convolution group, checked against NumPy and against cases worked out by hand.
struct GroupedReconstructTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")

    /// A selection removing `units` of each named group.
    static func removing(_ units: [String: [Int]], in model: Model) throws -> Selection {
        let analysis = try StructureAnalysis(model: model)
        return Selection(
            entries: try units.sorted { $0.key < $1.key }.map { name, removed in
                guard let group = analysis.group(named: name) else {
                    throw PruneError(.invalidInput, "no group '\(name)'; groups: \(analysis.groups.map(\.name))")
                }
                return .init(target: group.target, decision: .prune(Mask(count: group.unitCount, setting: removed)))
            })
    }

    /// `Scripts/fixtures/make_grouped_reconstruct_fixture.py` removes unit 2 of c0 and units 1 and 5 of c1 in a
    /// 1×1 → 1×1 → depthwise 3×3 → BN → 1×1 → group=4 3×3 → group=2 3×3 chain and solves every re-fit with NumPy.
    @Test func depthwiseAndGroupedConvolutionsAreFittedPerGroupAsNumPyFitsThem() throws {
        let model = try ONNXDocument(url: Self.fixtures.appending(path: "grouped_model.onnx")).model
        let x = try #require(
            try SafetensorsDocument(url: Self.fixtures.appending(path: "grouped_calib.safetensors")).model["x"]
        ).tensor
        let expected = try SafetensorsDocument(url: Self.fixtures.appending(path: "grouped_expected.safetensors")).model
        let selection = try Self.removing(["c0": [2], "c1": [1, 5]], in: model)
        let context = PruneContext(model: model, calibrationBatches: InMemoryBatches(batches: [["x": x]]))
        let (result, layers) = try ReconstructRewriter(heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        #expect(layers.map(\.layer) == ["c1", "dw", "bn", "pw", "g4", "g2", "y"])
        #expect(layers.first { $0.layer == "dw" }?.action == .leastSquares)
        #expect(layers.first { $0.layer == "bn" }?.action == .batchNormStatistics)
        #expect(expected.parameters.count == 16)
        for parameter in expected.parameters {
            let got = try #require(result[parameter.name], "\(parameter.name)").tensor
            #expect(got.shape == parameter.tensor.shape, "\(parameter.name)")
            #expect(
                close(got.floatValues(), parameter.tensor.floatValues(), tolerance: 2e-3),
                "\(parameter.name): \(got.floatValues()) vs NumPy \(parameter.tensor.floatValues())")
        }
        let end = try #require(layers.last)
        #expect(try #require(end.relativeErrorAfter) < #require(end.relativeErrorBefore))
    }

    /// x(2) → 1×1 Conv c0 (2 → 3, channel 2 = x0 + x1) → 1×1 Conv c1 (3 → 2) → depthwise 3×3 (2 → 4, multiplier 2):
    /// removing c0's channel 2 is recovered exactly by c1, so the depthwise Conv sees the dense input again and its
    /// per-group fit (lambda 0) must give back its own weights and bias.
    @Test func aDepthwiseFitOnExactDataRecoversTheKnownWeights() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2, 4, 4])
        builder.output("y", [nil, 4, 4, 4])
        builder.weight("c0.weight", [3, 2, 1, 1], values: [1, 0, 0, 1, 1, 1])
        builder.node("Conv", ["x", "c0.weight"], ["h0"], name: "c0", lists: ["kernel_shape": [1, 1]])
        builder.weight("c1.weight", [2, 3, 1, 1], values: [0.5, -1, 2, 1, 0.25, -0.5])
        builder.weight("c1.bias", [2], values: [0.1, -0.2])
        builder.node("Conv", ["h0", "c1.weight", "c1.bias"], ["h1"], name: "c1", lists: ["kernel_shape": [1, 1]])
        builder.conv("h1", "y", name: "dw", in: 2, out: 4, k: 3, group: 2)
        let work = try Scratch()
        let model = try work.open(builder.model, as: "depthwise").model
        var generator = SystemRandomNumberGenerator()
        let values = (0..<(3 * 2 * 16)).map { _ in Float.random(in: -1...1, using: &generator) }
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [3, 2, 4, 4], values: values)]])
        let selection = try Self.removing(["c0": [2]], in: model)
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter(lambda: 0, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        #expect(layers.map(\.layer) == ["c1", "dw", "y"])
        let c1 = try #require(result["c1.weight"]).tensor.floatValues()
        // h0 = (x0, x1, x0 + x1): c1 reads x0·(w0 + w2) + x1·(w1 + w2).
        #expect(close(c1, [2.5, 1, 0.5, -0.25], tolerance: 1e-4), "\(c1)")
        for name in ["dw.weight", "dw.bias"] {
            let dense = try model.parameter(named: name).tensor.floatValues()
            let fitted = try #require(result[name]).tensor.floatValues()
            #expect(close(fitted, dense, tolerance: 1e-3), "\(name): \(fitted) vs \(dense)")
        }
        #expect(try #require(layers[1].relativeErrorAfter) < 1e-9)
        #expect(try #require(layers.last?.relativeErrorAfter) < 1e-9)
    }

    /// x(2) → 1×1 Conv c1 (2 → 3) whose channel 2 has zero weights → depthwise 3×3 with bias → 1×1 Conv pw (3 → 2):
    /// the removed depthwise channel contributed only the constant pw.w[:, 2]·dw.bias[2], which pw's re-fitted bias
    /// absorbs exactly; its other weights stay.
    @Test func aRemovedDepthwiseChannelWithZeroWeightsIsAbsorbedByTheConsumersBias() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2, 4, 4])
        builder.output("y", [nil, 2, 4, 4])
        builder.weight("c1.weight", [3, 2, 1, 1], values: [1, 0.5, -0.5, 1, 0, 0])
        builder.node("Conv", ["x", "c1.weight"], ["h1"], name: "c1", lists: ["kernel_shape": [1, 1]])
        builder.conv("h1", "h2", name: "dw", in: 3, out: 3, k: 3, group: 3)
        builder.weight("pw.weight", [2, 3, 1, 1], values: [1, 2, 3, -1, 0.5, 2])
        builder.weight("pw.bias", [2], values: [0.25, -0.75])
        builder.node("Conv", ["h2", "pw.weight", "pw.bias"], ["y"], name: "pw", lists: ["kernel_shape": [1, 1]])
        let work = try Scratch()
        let model = try work.open(builder.model, as: "zero").model
        var generator = SystemRandomNumberGenerator()
        let values = (0..<(4 * 2 * 16)).map { _ in Float.random(in: -1...1, using: &generator) }
        let batches = InMemoryBatches(batches: [["x": Tensor(shape: [4, 2, 4, 4], values: values)]])
        let selection = try Self.removing(["c1": [2]], in: model)
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter(lambda: 0, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        #expect(layers.map(\.layer) == ["pw", "y"])
        let dwBias = try model.parameter(named: "dw.bias").tensor.floatValues()[2]
        let weights = try #require(result["pw.weight"]).tensor.floatValues()
        let bias = try #require(result["pw.bias"]).tensor.floatValues()
        #expect(close(weights, [1, 2, -1, 0.5], tolerance: 1e-4), "\(weights)")
        #expect(close(bias, [0.25 + 3 * dwBias, -0.75 + 2 * dwBias], tolerance: 1e-4), "\(bias)")
        #expect(try #require(layers.last?.relativeErrorAfter) < 1e-9)
    }

    /// x(2) → c0 1×1 (2 → 3, channel 2 = x0 + x1) → c1 1×1 (3 → 2, bias b); c2 1×1 (2 → 2) reads b through an
    /// Identity (an exporter's de-duplicated zero biases look like this); y = c1 + c2. Removing c0's channel 2
    /// re-fits c1's weights exactly to [w0 + w2, w1 + w2] with b held fixed, since c2 reads it too.
    @Test func aBiasOtherNodesReadThroughIdentityIsKeptAndTheWeightsFitAround() throws {
        var builder = LayerGraphBuilder()
        builder.input("x", [nil, 2, 2, 2])
        builder.output("y", [nil, 2, 2, 2])
        builder.weight("c0.weight", [3, 2, 1, 1], values: [1, 0, 0, 1, 1, 1])
        builder.node("Conv", ["x", "c0.weight"], ["h0"], name: "c0", lists: ["kernel_shape": [1, 1]])
        builder.weight("c1.weight", [2, 3, 1, 1], values: [0.5, -1, 2, 1, 0.25, -0.5])
        builder.weight("b", [2], values: [0.3, -0.7])
        builder.node("Conv", ["h0", "c1.weight", "b"], ["h1"], name: "c1", lists: ["kernel_shape": [1, 1]])
        builder.node("Identity", ["b"], ["b.alias"], name: "alias")
        builder.weight("c2.weight", [2, 2, 1, 1], values: [1, 2, 3, 4])
        builder.node("Conv", ["x", "c2.weight", "b.alias"], ["h2"], name: "c2", lists: ["kernel_shape": [1, 1]])
        builder.node("Add", ["h1", "h2"], ["y"], name: "add")
        let work = try Scratch()
        let model = try work.open(builder.model, as: "shared").model
        let batches = InMemoryBatches(batches: [
            ["x": Tensor(shape: [2, 2, 2, 2], values: [0.1, 0.7, -0.9, 0.2, 0.4, -0.4, 0.3, 0.8, 0.6, 0.1, 0.2, -0.5, 0.8, 0.9, -0.3, 0.25])]
        ])
        let selection = try Self.removing(["c0": [2]], in: model)
        let context = PruneContext(model: model, calibrationBatches: batches)
        let (result, layers) = try ReconstructRewriter(lambda: 0, heldOutFraction: 0).reconstruct(model, applying: selection, in: context)
        #expect(layers.map(\.layer) == ["c1", "y"])
        let weights = try #require(result["c1.weight"]).tensor.floatValues()
        #expect(close(weights, [2.5, 1, 0.5, -0.25], tolerance: 1e-4), "\(weights)")
        #expect(try #require(result["b"]).tensor.floatValues() == [0.3, -0.7])
        #expect(try #require(layers.last?.relativeErrorAfter) < 1e-9)
    }
}

/// `prune run … --granularity unit --rewriter reconstruct` on a tiny MobileNetV2-like model (inverted residual with
/// Add, depthwise and grouped convolutions, ReLU6); ONNX Runtime must load and run what it writes.
@Suite(.serialized)
struct GroupedReconstructCLITests {
    @Test func aMobileNetStyleModelIsReconstructedAndONNXRuntimeRunsTheResult() throws {
        let fixtures = GroupedReconstructTests.fixtures
        let calibration = fixtures.appending(path: "mobilenet_tiny_calib.safetensors").path
        let work = try Scratch()
        let run = try PruneBinary.run([
            "run", fixtures.appending(path: "mobilenet_tiny.onnx").path, "-o", work.path("r.onnx"), "--calibration",
            calibration, "--granularity", "unit", "--scorer", "magnitude:p=2", "--selector",
            "layer:sparsity=0.5,rounding=floor-keep", "--rewriter", "reconstruct",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        for layer in ["b1.expand", "b1.dw", "b1.project", "b2.dw", "b2.grouped", "fc"] {
            #expect(run.stdout.contains("reconstructed \(layer) (least squares)"), "\(layer): \(run.stdout)")
        }
        #expect(run.stdout.contains("re-estimated b1.dw.bn: BatchNorm running statistics"), "\(run.stdout)")
        let line = try #require(run.stdout.split(separator: "\n").first { $0.contains("model output logits") })
        let numbers = line.split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
            .filter { $0.contains(".") }.compactMap { Double($0) }
        // Fitted samples before → after, then held-out samples before → after: both improve.
        #expect(numbers.count == 4 && numbers[1] < numbers[0] && numbers[3] < numbers[2], "\(line)")

        let python = try TestPython.required()
        let ort = try TestPython.run(
            python, [
                TestPython.script("ort_run.py").path, work.path("r.onnx"), calibration, work.path("ort.safetensors"),
                "--check",
            ])
        #expect(ort.status == 0, "\(ort.output)")
        let logits = try #require(try SafetensorsDocument(url: work.url.appending(path: "ort.safetensors")).model["logits"])
        #expect(logits.tensor.shape == [32, 5])
    }
}
