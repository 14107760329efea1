import Foundation
import Testing
import PruneKit
import PruneQuantize
import PruneRuntime

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Fixtures")
private let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appending(path: "Examples/digits-cnn")

/// Every element of `values` is a target of one stage, nothing pruned.
private func quantizeAll(_ names: [String], in model: Model, pruning masks: [String: Mask] = [:]) throws -> Selection {
    Selection(
        entries: try names.map { name in
            let parameter = try model.parameter(named: name)
            return .init(
                target: .elements(of: parameter),
                decision: .prune(masks[name] ?? Mask(count: parameter.tensor.elementCount)))
        })
}

private func values(_ file: URL, _ names: [String]) throws -> [String: [Float]] {
    try CalibrationData.batch(in: file, inputs: names).mapValues { $0.floatValues() }
}

@Suite struct WeightQuantizationTests {
    @Test func int8PerOutputChannelByHand() throws {
        // Row 0: max 127 → scale 1; row 1: max 254 → scale 2. Halves round to even (−63.5 → −64, 1.5 → 2, −0.5 → 0).
        let weights: [Float] = [127, -63.5, 0.49, 0, 254, 3, -1, 100]
        let scales = WeightScales(
            values: weights, shape: [2, 4], layout: .pytorch, scheme: try WeightQuantization(bits: 8, groupSize: 0))
        #expect(scales.scaleShape == [2])
        #expect(scales.axis == 0 && scales.blockSize == 0)
        #expect(scales.scales == [1, 2])
        #expect(scales.levels(of: weights) == [127, -64, 0, 0, 127, 2, 0, 50])
    }

    @Test func int4GroupsOfInputChannelsByHand() throws {
        // Groups of 4 inputs: [7, −3.5, 1, 0] → scale 1; [14, −2.5] → scale 2 (max / 7).
        let weights: [Float] = [7, -3.5, 1, 0, 14, -2.5]
        let scales = WeightScales(
            values: weights, shape: [1, 6], layout: .pytorch, scheme: try WeightQuantization(bits: 4, groupSize: 4))
        #expect(scales.scaleShape == [1, 2])
        #expect(scales.axis == 1 && scales.blockSize == 4)
        #expect(scales.scales == [1, 2])
        let levels = scales.levels(of: weights)
        #expect(levels == [7, -4, 1, 0, 7, -1])
        #expect(QuantizedGraphEdits.packFourBit(levels) == [0xC7, 0x01, 0xF7])
    }

    @Test func unsupportedBitsAreRefused() {
        #expect(throws: PruneError.self) { try WeightQuantization(bits: 3, groupSize: 0) }
    }
}

@Suite struct QuantizedRuntimeTests {
    /// int8 per axis, int4 blocked, uint8 and int8 activation pairs: ONNX Runtime's output, recorded.
    @Test func interpreterMatchesONNXRuntime() throws {
        let graph = try ONNXGraph(contentsOf: fixtures.appending(path: "quantized_ops.onnx"))
        let io = try CalibrationData.batch(in: fixtures.appending(path: "quantized_ops_io.safetensors"), inputs: ["x", "y"])
        let output = try Interpreter(graph: graph).run(["x": io["x"]!])["y"]!
        let expected = io["y"]!.floatValues()
        #expect(output.shape == [3, 5])
        for (ours, theirs) in zip(output.floatValues(), expected) { #expect(abs(ours - theirs) <= 1e-5) }
    }
}

@Suite struct GPTQTests {
    /// W [16, 8] to int4 per output channel on correlated inputs: our sweep against an independent numpy GPTQ (dense
    /// inverse, numpy Cholesky), and both errors against numpy's.
    @Test func gptqMatchesNumpyAndBeatsNearest() throws {
        let model = try ONNXDocument(url: fixtures.appending(path: "gptq_matmul.onnx")).model
        let expected = try values(
            fixtures.appending(path: "gptq_expected.safetensors"), ["gptq", "nearest", "error_gptq", "error_nearest"])
        let batches = try CalibrationData(url: fixtures.appending(path: "gptq_calib.safetensors"))
        let context = PruneContext(model: model, threads: 1, calibrationBatches: batches)
        for method in [QuantizeRewriter.Method.nearest, .gptq] {
            let rewriter = QuantizeRewriter(
                scheme: try WeightQuantization(bits: 4, groupSize: 0), method: method, damp: 0.01, blockSize: 4)
            let result = try rewriter.rewrite(model, applying: try quantizeAll(["w"], in: model), in: context)
            // x = I reads the dequantized weight back through the written graph.
            var identity = [Float](repeating: 0, count: 256)
            for i in 0..<16 { identity[i * 16 + i] = 1 }
            let graph = try ONNXGraph.of(result.model)
            let w = try Interpreter(graph: graph).run(["x": RuntimeTensor(shape: [16, 16], floats: identity)])["y"]!
            let reference = expected[method == .gptq ? "gptq" : "nearest"]!
            for (ours, theirs) in zip(w.floatValues(), reference) { #expect(abs(ours - theirs) <= 1e-4) }
            if method == .gptq {
                let row = try #require(result.layers.first)
                #expect(row.action == .gptq)
                let (before, after) = (try #require(row.relativeErrorBefore), try #require(row.relativeErrorAfter))
                #expect(abs(before - Double(expected["error_nearest"]![0])) <= 1e-4 * before)
                #expect(abs(after - Double(expected["error_gptq"]![0])) <= 1e-3 * after)
                #expect(after < 0.6 * before)
            }
        }
    }
}

@Suite struct CompositionTests {
    /// Pruned weights stay exact zeros in the int8 tensor, and the written model runs.
    @Test func pruneThenQuantizeKeepsZeros() throws {
        let model = try ONNXDocument(url: digits.appending(path: "model.onnx")).model
        let weight = try model.parameter(named: "conv2.weight")
        let mask = Mask(count: weight.tensor.elementCount, setting: Array(stride(from: 0, to: weight.tensor.elementCount, by: 2)))
        let selection = try quantizeAll(["conv2.weight"], in: model, pruning: ["conv2.weight": mask])
        let rewriter = QuantizeRewriter(scheme: try WeightQuantization(bits: 8, groupSize: 0))
        let result = try rewriter.rewrite(model, applying: selection, in: PruneContext(model: model, threads: 1))
        let levels = try result.model.parameter(named: "conv2.weight_quantized").tensor
        #expect(levels.dtype == .i8)
        let values = levels.floatValues()
        for index in mask.setIndices { #expect(values[index] == 0) }
        #expect(result.model["conv2.weight"] == nil)
        let graph = try ONNXGraph.of(result.model)
        _ = try Interpreter(graph: graph).run(try graph.syntheticInputs(batch: 1, extent: 8))
    }

    /// Static QDQ on the digits CNN keeps the dense model's predictions on most test digits.
    @Test func staticQDQKeepsAccuracy() throws {
        let model = try ONNXDocument(url: digits.appending(path: "model.onnx")).model
        let names = model.parameters.filter { $0.layout != nil }.map(\.name)
        let batches = try CalibrationData(url: digits.appending(path: "calib.safetensors"))
        let context = PruneContext(model: model, threads: 1, calibrationBatches: batches)
        let result = try StaticQuantizeRewriter().rewrite(model, applying: try quantizeAll(names, in: model), in: context)
        let test = try CalibrationData.batch(in: digits.appending(path: "test.safetensors"), inputs: ["input", "labels"])
        let dense = try Interpreter(graph: ONNXGraph.of(model)).run(["input": test["input"]!]).first!.value
        let quantized = try Interpreter(graph: ONNXGraph.of(result.model)).run(["input": test["input"]!]).first!.value
        let classes = dense.shape[1]
        func argmax(_ values: [Float], _ row: Int) -> Int {
            (0..<classes).max { values[row * classes + $0] < values[row * classes + $1] }!
        }
        let (a, b) = (dense.floatValues(), quantized.floatValues())
        let agree = (0..<dense.shape[0]).filter { argmax(a, $0) == argmax(b, $0) }.count
        #expect(Double(agree) >= 0.97 * Double(dense.shape[0]))
    }
}

@Suite struct ActivationRangeTests {
    @Test func percentileCutsBothTails() {
        // 100 values; p = 98 leaves 1 value in each tail: the single lowest (bin 0) and highest (bin 6) go.
        #expect(ActivationRanges.percentileBins([1, 0, 0, 96, 0, 2, 1], p: 98) == (3, 5))
        #expect(ActivationRanges.percentileBins([1, 0, 0, 96, 0, 2, 1], p: 100) == (0, 6))
    }

    @Test func uint8ParametersByHand() {
        // [−1, 3]: scale 4 / 255, zero point round(1 / (4 / 255)) = round(63.75) = 64.
        let q = ActivationQuantization(range: (-1, 3))
        #expect(abs(q.scale - 4 / 255) < 1e-9)
        #expect(q.zeroPoint == 64)
        #expect(ActivationQuantization(range: (0, 0)).scale == 1)
    }
}
